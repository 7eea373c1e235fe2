namespace Petition.Signing;

/// <summary>
/// The token a signer gets at signing and later presents to withdraw: an HMAC of the signature id, with a
/// key derived (HKDF) from the dedup secret for this purpose alone. Nothing is stored; it is recomputed.
/// </summary>
public sealed class WithdrawalTokens
{
    private readonly SignatureMac _mac;

    /// <summary>Creates the token maker from the dedup secret (at least 16 bytes of UTF-8).</summary>
    public WithdrawalTokens(string dedupSecret) => _mac = new SignatureMac(dedupSecret, "petition withdrawal token v1", nameof(dedupSecret));

    /// <summary>The token for a signature, URL-safe base64 (43 characters).</summary>
    public string For(Guid signatureId) => _mac.For(signatureId);

    /// <summary>True when the token was made for this signature; compared in constant time.</summary>
    public bool Verify(Guid signatureId, string? token) => _mac.Matches(signatureId, token);
}
