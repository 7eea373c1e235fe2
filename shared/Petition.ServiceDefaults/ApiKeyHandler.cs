using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Petition.ServiceDefaults;

/// <summary>An API key issued through the admin API, as a validator found it.</summary>
/// <param name="KeyId">The key's id.</param>
/// <param name="Name">What the admin called it (a partner's name, say).</param>
/// <param name="Scope"><see cref="ApiKeyHandler.AdminScope"/> or <see cref="ApiKeyHandler.PartnerScope"/>.</param>
/// <param name="PerMinute">A partner's quota: signatures per minute, over all its visitors.</param>
public sealed record IssuedApiKey(Guid KeyId, string Name, string Scope, int PerMinute);

/// <summary>Finds the live (not revoked) key a presented secret belongs to; implemented by the service that stores keys.</summary>
public interface IApiKeyValidator
{
    /// <summary>The key, or null when it is unknown, revoked or malformed. Must compare secrets in constant time.</summary>
    IssuedApiKey? Validate(string presented);
}

/// <summary>
/// Authenticates callers by the X-Api-Key header: the admin key from Petition:AdminApiKey (compared in
/// constant time), or a key issued through the admin API when the service registers an
/// <see cref="IApiKeyValidator"/>. Only endpoints that ask for it authenticate: there is no default scheme,
/// so the anonymous signing path never runs this handler.
/// </summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder,
    ApiKeyHandler.ExpectedKey expected, IEnumerable<IApiKeyValidator> validators)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>The configured key's hash, computed once (a handler is made per authenticated request).</summary>
    public sealed class ExpectedKey(IConfiguration configuration)
    {
        internal byte[] Hash { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(configuration[KeySetting] ?? string.Empty));
    }

    /// <summary>The authentication scheme.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header the key travels in.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The policy admin endpoints require.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>The scope (role) of admin keys.</summary>
    public const string AdminScope = "admin";

    /// <summary>The scope (role) of keys for campaign sites that sign for their visitors.</summary>
    public const string PartnerScope = "partner";

    /// <summary>Claim carrying an issued key's id.</summary>
    public const string KeyIdClaim = "petition.key_id";

    /// <summary>Claim carrying a partner key's quota per minute.</summary>
    public const string PerMinuteClaim = "petition.per_minute";

    private const string KeySetting = "Petition:AdminApiKey";

    /// <summary>Registers the scheme and the admin policy; the key must be configured (16+ characters).</summary>
    public static void AddTo(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if ((builder.Configuration[KeySetting]?.Length ?? 0) < 16)
            throw new InvalidOperationException($"{KeySetting} must be set (16+ characters).");
        builder.Services.AddSingleton<ExpectedKey>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(SchemeName).RequireRole(AdminScope));
    }

    /// <summary>Who acted, for the audit log: the key's name and id, never its secret.</summary>
    public static string ActorOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var id = user.FindFirst(KeyIdClaim)?.Value;
        return id is null ? "configured admin key" : $"key {user.Identity?.Name} ({id})";
    }

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var supplied) || supplied.Count != 1 || string.IsNullOrEmpty(supplied[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        // Hash both sides so the comparison takes the same time whatever the supplied key's length.
        var suppliedHash = SHA256.HashData(Encoding.UTF8.GetBytes(supplied[0]!));
        if (CryptographicOperations.FixedTimeEquals(suppliedHash, expected.Hash))
            return Task.FromResult(Success([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, AdminScope)]));

        foreach (var validator in validators)
        {
            if (validator.Validate(supplied[0]!) is not { } key) continue;
            return Task.FromResult(Success([
                new Claim(ClaimTypes.Name, key.Name), new Claim(ClaimTypes.Role, key.Scope),
                new Claim(KeyIdClaim, key.KeyId.ToString()), new Claim(PerMinuteClaim, key.PerMinute.ToString(CultureInfo.InvariantCulture))]));
        }

        return Task.FromResult(AuthenticateResult.Fail("Unknown or revoked API key."));
    }

    private static AuthenticateResult Success(Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
}
