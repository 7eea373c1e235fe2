namespace Petition.Signing;

/// <summary>What a confirmation token says of the signature it is presented for.</summary>
public enum ConfirmationCheck
{
    /// <summary>Made for this signature, and within its lifetime.</summary>
    Valid,

    /// <summary>Made for this signature, but the signature was minted longer ago than the lifetime.</summary>
    Expired,

    /// <summary>Not made for this signature (or for none): forged, altered, or another signature's.</summary>
    Forged,
}

/// <summary>
/// The token in a confirmation mail's link: an HMAC of the signature id under a key of its own (HKDF from the
/// dedup secret), never stored. It expires with the signature: the id is a UUIDv7, so its age is read from it
/// and a token needs no issue time of its own. Single use is the store's: a confirmed signature stays confirmed.
/// </summary>
public sealed class ConfirmationTokens
{
    private readonly SignatureMac _mac;
    private readonly TimeSpan _lifetime;

    /// <summary>Creates the token maker from the dedup secret (at least 16 bytes of UTF-8); tokens live <paramref name="lifetime"/>.</summary>
    public ConfirmationTokens(string dedupSecret, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _mac = new SignatureMac(dedupSecret, "petition confirmation token v1", nameof(dedupSecret));
        _lifetime = lifetime;
    }

    /// <summary>The token for a signature, URL-safe base64 (43 characters).</summary>
    public string For(Guid signatureId) => _mac.For(signatureId);

    /// <summary>Whether <paramref name="token"/> confirms <paramref name="signatureId"/> at <paramref name="now"/>.</summary>
    public ConfirmationCheck Check(Guid signatureId, string? token, DateTimeOffset now)
    {
        if (!_mac.Matches(signatureId, token)) return ConfirmationCheck.Forged;
        // A token we made is for an id we minted, so a UUIDv7 whose mint time bounds its life; any other id has none.
        if (SignatureIds.MintedAtUnixMs(signatureId) is not { } minted) return ConfirmationCheck.Expired;
        return now.ToUnixTimeMilliseconds() - minted > (long)_lifetime.TotalMilliseconds ? ConfirmationCheck.Expired : ConfirmationCheck.Valid;
    }
}
