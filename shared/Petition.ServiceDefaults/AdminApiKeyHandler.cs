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
/// </summary>
public sealed class AdminApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, IConfiguration configuration)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>The authentication scheme.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header the key travels in.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The policy admin endpoints require.</summary>
    public const string AdminPolicy = "admin";

    private const string AdminRole = "admin";
    private const string KeySetting = "Petition:AdminApiKey";

    private readonly byte[] _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(configuration[KeySetting] ?? string.Empty));

    /// <summary>Registers the scheme and the admin policy; the key must be configured (16+ characters).</summary>
    public static void AddTo(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if ((builder.Configuration[KeySetting]?.Length ?? 0) < 16)
            throw new InvalidOperationException($"{KeySetting} must be set (16+ characters).");
        builder.Services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, AdminApiKeyHandler>(SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, p => p.RequireRole(AdminRole));
    }

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var supplied) || supplied.Count != 1 || string.IsNullOrEmpty(supplied[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        // Hash both sides so the comparison takes the same time whatever the supplied key's length.
        var suppliedHash = SHA256.HashData(Encoding.UTF8.GetBytes(supplied[0]!));
        if (!CryptographicOperations.FixedTimeEquals(suppliedHash, _expectedHash))
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, AdminRole)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
