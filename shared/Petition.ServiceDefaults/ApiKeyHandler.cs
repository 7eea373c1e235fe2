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

/// <summary>
/// Authenticates admins by the X-Api-Key header, compared in constant time with Petition:AdminApiKey.
/// Only endpoints that require the admin policy authenticate: there is no default scheme, so the public
/// signing path never runs this handler.
/// </summary>
public sealed class AdminApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, AdminApiKeyHandler.ExpectedKey expected)
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

    private const string AdminRole = "admin";
    private const string KeySetting = "Petition:AdminApiKey";

    /// <summary>Registers the scheme and the admin policy; the key must be configured (16+ characters).</summary>
    public static void AddTo(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if ((builder.Configuration[KeySetting]?.Length ?? 0) < 16)
            throw new InvalidOperationException($"{KeySetting} must be set (16+ characters).");
        builder.Services.AddSingleton<ExpectedKey>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminApiKeyHandler>(SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(SchemeName).RequireRole(AdminRole));
    }

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var supplied) || supplied.Count != 1 || string.IsNullOrEmpty(supplied[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        // Hash both sides so the comparison takes the same time whatever the supplied key's length.
        var suppliedHash = SHA256.HashData(Encoding.UTF8.GetBytes(supplied[0]!));
        if (!CryptographicOperations.FixedTimeEquals(suppliedHash, expected.Hash))
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, AdminRole)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
