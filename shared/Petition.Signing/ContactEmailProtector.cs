using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing;

/// <summary>
/// Encrypts the email of a signer who agreed to be contacted (AES-256-GCM, key derived with HKDF from a
/// secret in configuration), so the database holds it only as ciphertext. Each email gets a fresh nonce.
/// </summary>
public sealed class ContactEmailProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    /// <summary>Creates a protector; the secret must be at least 16 bytes of UTF-8.</summary>
    public ContactEmailProtector(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var bytes = Encoding.UTF8.GetBytes(secret);
        if (bytes.Length < 16) throw new ArgumentException("The contact email key must be at least 16 bytes long.", nameof(secret));
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, bytes, 32, info: "petition contact email v1"u8.ToArray());
    }

    /// <summary>Nonce, tag and ciphertext of the email, in one array.</summary>
    public byte[] Protect(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var plain = Encoding.UTF8.GetBytes(email);
        var sealedBox = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBox.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, sealedBox.AsSpan(NonceSize + TagSize), sealedBox.AsSpan(NonceSize, TagSize));
        return sealedBox;
    }

    /// <summary>The email; throws <see cref="CryptographicException"/> when the data was altered or the key differs.</summary>
    public string Unprotect(byte[] sealedBox)
    {
        ArgumentNullException.ThrowIfNull(sealedBox);
        if (sealedBox.Length < NonceSize + TagSize) throw new CryptographicException("Not a protected contact email.");
        var plain = new byte[sealedBox.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBox.AsSpan(0, NonceSize), sealedBox.AsSpan(NonceSize + TagSize), sealedBox.AsSpan(NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
