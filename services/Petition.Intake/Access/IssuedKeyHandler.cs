using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Petition.ServiceDefaults;

namespace Petition.Intake.Access;

/// <summary>An API key issued through the admin API, as <see cref="AccessLists"/> found it.</summary>
/// <param name="Scope"><see cref="AdminScope"/> or <see cref="PartnerScope"/>.</param>
/// <param name="PerMinute">A partner's quota: signatures per minute, over all its visitors.</param>
/// <param name="Vouches">A partner that verified its signers itself: they count at once on a petition that asks for email confirmation.</param>
internal sealed record IssuedApiKey(Guid KeyId, string Name, string Scope, int PerMinute, bool Vouches = false)
{
    /// <summary>An issued admin key opens every admin endpoint, as the configured key does.</summary>
    public const string AdminScope = ApiKeyHandler.AdminRole;

    /// <summary>The scope of keys for campaign sites that sign for their visitors.</summary>
    public const string PartnerScope = "partner";

    public const string KeyIdClaim = "petition.key_id";
    public const string PerMinuteClaim = "petition.per_minute";
    public const string VouchesClaim = "petition.vouches";

    /// <summary>The partner key a principal was authenticated with, if it was one.</summary>
    public static (Guid KeyId, int PerMinute, bool Vouches)? PartnerOf(ClaimsPrincipal user) =>
        user.IsInRole(PartnerScope) && user.FindFirst(KeyIdClaim) is { } id && user.FindFirst(PerMinuteClaim) is { } perMinute
            ? (Guid.Parse(id.Value), int.Parse(perMinute.Value, CultureInfo.InvariantCulture), user.HasClaim(VouchesClaim, "true"))
            : null;

    /// <summary>Who acted, for the audit log: the key's name and id, never its secret.</summary>
    public static string ActorOf(ClaimsPrincipal user)
    {
        var id = user.FindFirst(KeyIdClaim)?.Value;
        return id is null ? "configured admin key" : $"key {user.Identity?.Name} ({id})";
    }

    public ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.Name, Name), new Claim(ClaimTypes.Role, Scope),
        new Claim(KeyIdClaim, KeyId.ToString()), new Claim(PerMinuteClaim, PerMinute.ToString(CultureInfo.InvariantCulture)),
        new Claim(VouchesClaim, Vouches ? "true" : "false"),
    ], scheme));
}

/// <summary>
/// Authenticates keys issued through the admin API (X-Api-Key, pk_…) against <see cref="AccessLists"/>, in
/// memory. The admin policy takes these and the configured key (<see cref="ApiKeyHandler"/>); partner keys
/// are authenticated on the signing endpoint (<see cref="Http.SigningClient"/>).
/// </summary>
internal sealed class IssuedKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, AccessLists access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "IssuedKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Any other key (the configured one) is for the other scheme to judge.
        if (!Request.Headers.TryGetValue(ApiKeyHandler.HeaderName, out var supplied) || supplied.Count != 1
            || supplied[0] is not { } presented || !AccessLists.LooksIssued(presented))
            return Task.FromResult(AuthenticateResult.NoResult());

        return Task.FromResult(access.Validate(presented) is { } key
            ? AuthenticateResult.Success(new AuthenticationTicket(key.ToPrincipal(SchemeName), SchemeName))
            : AuthenticateResult.Fail("Unknown or revoked API key."));
    }
}
