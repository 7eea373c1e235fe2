using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Petition.Intake.Access;
using Petition.ServiceDefaults;

namespace Petition.Intake.Http;

/// <summary>
/// Who is signing: the address rate limits, block lists and strike-outs go by, and the partner site
/// signing on the visitor's behalf, if any. A partner (a campaign site posting from its own server) sends
/// its key in X-Api-Key and the visitor's address in X-Visitor-Address, which only a valid partner key
/// makes believed; anyone else is known by the connection's address (or X-Forwarded-For from a trusted proxy).
/// </summary>
internal sealed record SigningClient(IPAddress? Address, Guid? PartnerKeyId, int PartnerPerMinute, bool PartnerVouches = false)
{
    public const string VisitorAddressHeader = "X-Visitor-Address";

    /// <summary>Marks the endpoints that sign: only they read the partner headers and are rate limited.</summary>
    public sealed class SigningEndpoint;

    public static SigningClient Of(HttpContext http) =>
        http.Features.Get<SigningClient>() ?? new SigningClient(Unmapped(http.Connection.RemoteIpAddress), null, 0);

    internal static IPAddress? Unmapped(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}

/// <summary>Registering, finding and marking the signing clients.</summary>
internal static class SigningClients
{
    /// <summary>X-Forwarded-For is believed from the trusted proxies of <see cref="RateLimitOptions"/> alone.</summary>
    public static void AddSigningClients(this IHostApplicationBuilder builder) =>
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<RateLimitOptions>>((forwarded, limits) =>
            TrustedProxies.Configure(forwarded, limits.Value.TrustedProxies));

    /// <summary>Forwarded headers (from trusted proxies only), then partner keys on the signing endpoints.</summary>
    public static WebApplication UseSigningClients(this WebApplication app)
    {
        app.UseTrustedProxies();
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<SigningClient.SigningEndpoint>() is null || !http.Request.Headers.ContainsKey(ApiKeyHandler.HeaderName))
            {
                await next(http);
                return;
            }

            if (await PartnerAsync(http) is { } refused)
            {
                await refused.ExecuteAsync(http);
                return;
            }

            await next(http);
        });
        return app;
    }

    /// <summary>The endpoint signs: it reads the partner headers, and the signing rate limits apply to it.</summary>
    public static RouteHandlerBuilder AsSigningEndpoint(this RouteHandlerBuilder endpoint) => endpoint.WithMetadata(new SigningClient.SigningEndpoint());

    // Authenticates the partner key and takes the visitor's address; a problem when either is wrong.
    private static async Task<IResult?> PartnerAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(IssuedKeyHandler.SchemeName);
        if (!result.Succeeded || IssuedApiKey.PartnerOf(result.Principal) is not (var keyId, var perMinute, var vouches))
        {
            IntakeMetrics.RecordRejected("bad_api_key");
            return Problems.Status(StatusCodes.Status401Unauthorized, "Unknown API key.",
                "The API key is unknown, revoked, or not a partner key. Sign without one, or ask for a partner key.");
        }

        if (!IPAddress.TryParse(http.Request.Headers[SigningClient.VisitorAddressHeader].ToString(), out var visitor))
        {
            IntakeMetrics.RecordRejected("invalid");
            return Problems.Field(SigningClient.VisitorAddressHeader, "A partner key signs for a visitor: send the visitor's IP address in X-Visitor-Address.");
        }

        http.User = result.Principal;
        http.Features.Set(new SigningClient(SigningClient.Unmapped(visitor), keyId, perMinute, vouches));
        return null;
    }
}
