using System.Buffers.Text;
using System.Security.Cryptography;

namespace Petition.Signing;

/// <summary>
/// An HMAC-SHA256 of a signature id under a key derived (HKDF) for one purpose: the tokens signers hold
/// (withdrawal, confirmation). Nothing is stored; a token is recomputed and compared in constant time.
/// </summary>
internal sealed class SignatureMac(string secret, string purpose, string paramName)
{
    private readonly byte[] _key = PurposeKey.Derive(secret, purpose, paramName);

    /// <summary>URL-safe base64, 43 characters.</summary>
    public string For(Guid signatureId) => Base64Url.EncodeToString(Mac(signatureId));

    public bool Matches(Guid signatureId, string? token)
    {
        // TryDecode throws (not returns false) on characters outside the alphabet, so check them first.
        if (string.IsNullOrEmpty(token) || token.Length > 64 || !Base64Url.IsValid(token)) return false;
        var supplied = new byte[48];
        if (!Base64Url.TryDecodeFromChars(token, supplied, out var length) || length != 32) return false;
        return CryptographicOperations.FixedTimeEquals(supplied.AsSpan(0, length), Mac(signatureId));
    }

    private byte[] Mac(Guid signatureId) => HMACSHA256.HashData(_key, signatureId.ToByteArray());
}
