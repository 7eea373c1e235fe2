using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Petition.ServiceDefaults;

/// <summary>The service's configured admin key (section "Petition").</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Petition:AdminApiKey, 16+ characters; it comes from the environment, never the repository.</summary>
    public string AdminApiKey { get; set; } = string.Empty;
}

/// <summary>
/// Authenticates the admin by the X-Api-Key header, compared in constant time with Petition:AdminApiKey.
/// A service with keys of its own (the intake's issued keys) registers a scheme for them and names it to
/// <see cref="ApiKeyAuthentication.AddApiKeyAuthentication"/>. Where this is the only scheme (the counter),
/// ASP.NET Core makes it the default, so every request runs it (a request without the header stops at the
/// lookup); with two there is no default, and only the endpoints that require the admin policy run them.
/// </summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyHandler.ExpectedKey expected)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    /// <summary>The configured key's hash, computed once (a handler is made per authenticated request).</summary>
    public sealed class ExpectedKey(IOptions<ApiKeyOptions> options)
    {
        internal byte[] Hash { get; } = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminApiKey));
    }

    /// <summary>The authentication scheme.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The header the key travels in.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The policy admin endpoints require.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>The role the admin policy requires.</summary>
    public const string AdminRole = "admin";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var supplied) || supplied.Count != 1 || string.IsNullOrEmpty(supplied[0]))
            return Task.FromResult(AuthenticateResult.NoResult());

        // Hash both sides so the comparison takes the same time whatever the supplied key's length.
        var suppliedHash = SHA256.HashData(Encoding.UTF8.GetBytes(supplied[0]!));
        if (!CryptographicOperations.FixedTimeEquals(suppliedHash, expected.Hash))
            return Task.FromResult(AuthenticateResult.Fail("Not the configured admin key."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, AdminRole)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

/// <summary>Registering and requiring the admin key.</summary>
public static class ApiKeyAuthentication
{
    /// <summary>
    /// Registers the configured-key scheme and the admin policy: the admin role, from the configured key or
    /// from any of <paramref name="otherAdminSchemes"/>. The key must be set (16+ characters), checked on start.
    /// </summary>
    public static AuthenticationBuilder AddApiKeyAuthentication(this IHostApplicationBuilder builder, params string[] otherAdminSchemes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ApiKeyOptions>().Bind(builder.Configuration.GetSection("Petition"))
            .Validate(o => o.AdminApiKey.Length >= 16, "Petition:AdminApiKey must be set (16+ characters).")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyHandler.ExpectedKey>();
        builder.Services.AddAuthorizationBuilder().AddPolicy(ApiKeyHandler.AdminPolicy, p => p
            .AddAuthenticationSchemes([ApiKeyHandler.SchemeName, .. otherAdminSchemes])
            .RequireRole(ApiKeyHandler.AdminRole));
        return builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
    }

    /// <summary>The endpoints answer only an admin key (401 without one, 403 with a key of another role).</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.RequireAuthorization(ApiKeyHandler.AdminPolicy);
    }
}
