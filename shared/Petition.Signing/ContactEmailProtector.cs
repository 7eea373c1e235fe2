using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing;

/// <summary>
/// Encrypts the email of a signer who agreed to be contacted (AES-256-GCM, key derived with HKDF from a
/// secret in configuration), so the database holds it only as ciphertext. Each email gets a fresh nonce,
/// and is bound to its signature id (associated data), so a ciphertext moved to another row fails to open.
/// Layout: version byte, nonce, tag, ciphertext; the version leaves room for a second key.
/// </summary>
public sealed class ContactEmailProtector
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;
    private readonly byte[] _key;

    /// <summary>Creates a protector; the secret must be at least 16 bytes of UTF-8.</summary>
    public ContactEmailProtector(string secret) : this(secret, "petition contact email v1")
    {
    }

    private ContactEmailProtector(string secret, string purpose) => _key = PurposeKey.Derive(secret, purpose, nameof(secret));

    /// <summary>
    /// The seal of a signer's email on its way from the intake to the mailer (<c>AcceptedSignature.MailTo</c>), keyed
    /// from the dedup secret under a purpose of its own: the worker, which passes it on, holds neither.
    /// </summary>
    public static ContactEmailProtector ForMail(string dedupSecret) => new(dedupSecret, "petition signer mail v1");

    /// <summary>The sealed email of one signature.</summary>
    public byte[] Protect(string email, Guid signatureId)
    {
        ArgumentNullException.ThrowIfNull(email);
        var plain = Encoding.UTF8.GetBytes(email);
        var sealedBox = new byte[HeaderSize + plain.Length];
        sealedBox[0] = Version;
        var nonce = sealedBox.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, sealedBox.AsSpan(HeaderSize), sealedBox.AsSpan(1 + NonceSize, TagSize), signatureId.ToByteArray());
        return sealedBox;
    }

    /// <summary>The email, or null when the data was altered, belongs to another signature or another key.</summary>
    public string? TryUnprotect(byte[] sealedBox, Guid signatureId)
    {
        ArgumentNullException.ThrowIfNull(sealedBox);
        if (sealedBox.Length < HeaderSize || sealedBox[0] != Version) return null;
        var plain = new byte[sealedBox.Length - HeaderSize];
        using var aes = new AesGcm(_key, TagSize);
        try
        {
            aes.Decrypt(sealedBox.AsSpan(1, NonceSize), sealedBox.AsSpan(HeaderSize), sealedBox.AsSpan(1 + NonceSize, TagSize), plain, signatureId.ToByteArray());
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }
}
