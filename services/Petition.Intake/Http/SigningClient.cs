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
internal sealed record SigningClient(IPAddress? Address, Guid? PartnerKeyId, int PartnerPerMinute)
{
    public const string VisitorAddressHeader = "X-Visitor-Address";

    /// <summary>Marks the endpoints that sign: only they read the partner headers and are rate limited.</summary>
    public sealed class SigningEndpoint;

    public static SigningClient Of(HttpContext http) =>
        http.Features.Get<SigningClient>() ?? new SigningClient(Unmapped(http.Connection.RemoteIpAddress), null, 0);

    public static void AddSigningClients(IHostApplicationBuilder builder)
    {
        var proxies = builder.Configuration.GetSection("RateLimits:TrustedProxies").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            // With no proxy listed the middleware would believe every sender (empty lists mean "check
            // nothing"), so then it is not added at all. ASP.NET Core's default loopback entries go too.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in proxies)
            {
                if (System.Net.IPNetwork.TryParse(proxy, out var network)) forwarded.KnownIPNetworks.Add(network);
                else if (IPAddress.TryParse(proxy, out var address)) forwarded.KnownProxies.Add(address);
                else throw new InvalidOperationException($"RateLimits:TrustedProxies: '{proxy}' is neither an address nor a CIDR range without host bits (10.0.0.0/8, not 10.0.0.1/8).");
            }
        });
    }

    /// <summary>Forwarded headers (from trusted proxies only), then partner keys on the signing endpoints.</summary>
    public static WebApplication UseSigningClients(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        if (options.KnownIPNetworks.Count + options.KnownProxies.Count > 0) app.UseForwardedHeaders();
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<SigningEndpoint>() is null || !http.Request.Headers.ContainsKey(ApiKeyHandler.HeaderName))
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

    // Authenticates the partner key and takes the visitor's address; a problem when either is wrong.
    private static async Task<IResult?> PartnerAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(IssuedKeyHandler.SchemeName);
        if (!result.Succeeded || IssuedApiKey.PartnerOf(result.Principal) is not (var keyId, var perMinute))
        {
            IntakeMetrics.RecordRejected("bad_api_key");
            return Problems.Status(StatusCodes.Status401Unauthorized, "Unknown API key.",
                "The API key is unknown, revoked, or not a partner key. Sign without one, or ask for a partner key.");
        }

        if (!IPAddress.TryParse(http.Request.Headers[VisitorAddressHeader].ToString(), out var visitor))
        {
            IntakeMetrics.RecordRejected("invalid");
            return Problems.Field(VisitorAddressHeader, "A partner key signs for a visitor: send the visitor's IP address in X-Visitor-Address.");
        }

        http.User = result.Principal;
        http.Features.Set(new SigningClient(Unmapped(visitor), keyId, perMinute));
        return null;
    }

    private static IPAddress? Unmapped(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
