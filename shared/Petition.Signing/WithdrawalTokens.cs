using System.Buffers.Text;
using System.Security.Cryptography;

namespace Petition.Signing;

/// <summary>
/// The token a signer gets at signing and later presents to withdraw: an HMAC of the signature id, with a
/// key derived (HKDF) from the dedup secret for this purpose alone. Nothing is stored; it is recomputed.
/// </summary>
public sealed class WithdrawalTokens
{
    private readonly byte[] _key;

    /// <summary>Creates the token maker from the dedup secret (at least 16 bytes of UTF-8).</summary>
    public WithdrawalTokens(string dedupSecret) => _key = PurposeKey.Derive(dedupSecret, "petition withdrawal token v1", nameof(dedupSecret));

    /// <summary>The token for a signature, URL-safe base64 (43 characters).</summary>
    public string For(Guid signatureId) => Base64Url.EncodeToString(Mac(signatureId));

    /// <summary>True when the token was made for this signature; compared in constant time.</summary>
    public bool Verify(Guid signatureId, string? token)
    {
        // TryDecode throws (not returns false) on characters outside the alphabet, so check them first.
        if (string.IsNullOrEmpty(token) || token.Length > 64 || !Base64Url.IsValid(token)) return false;
        var supplied = new byte[48];
        if (!Base64Url.TryDecodeFromChars(token, supplied, out var length) || length != 32) return false;
        return CryptographicOperations.FixedTimeEquals(supplied.AsSpan(0, length), Mac(signatureId));
    }

    private byte[] Mac(Guid signatureId) => HMACSHA256.HashData(_key, signatureId.ToByteArray());
}
