using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Petition.Intake.Http;

/// <summary>Limits on how fast one address may sign one petition (section "RateLimits").</summary>
public sealed class RateLimitOptions
{
    /// <summary>Off for load tests, which sign as thousands of people from one address.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Signatures one address may post to one petition in a row (a family at one computer).</summary>
    public int Burst { get; set; } = 5;

    /// <summary>How fast that burst refills, per minute.</summary>
    public int PerMinute { get; set; } = 5;

    /// <summary>At most this many per address and petition in any hour, however patiently spaced.</summary>
    public int PerHour { get; set; } = 30;

    /// <summary>
    /// Proxies (addresses, or CIDR ranges such as 10.0.0.0/8) whose X-Forwarded-For is believed: a load
    /// balancer in front of the intake. From anyone else the header is ignored, so it cannot be forged.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
}

/// <summary>
/// Per client address and petition, a burst (token bucket) and a sustained limit (hourly window), chained;
/// over either, 429 with Retry-After. Only the signing endpoint is limited: it is the one bots hammer.
/// </summary>
internal static class SigningRateLimits
{
    /// <summary>Marks the endpoint the limits apply to.</summary>
    public sealed class LimitedEndpoint;

    public static void AddSigningRateLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection("RateLimits"))
            .Validate(o => o.Burst > 0 && o.PerMinute > 0 && o.PerHour > 0, "RateLimits: Burst, PerMinute and PerHour must be positive.")
            .ValidateOnStart();

        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            // With no proxy listed the middleware would believe every sender (empty lists mean "check
            // nothing"), so then the header is not read at all. ASP.NET Core's default loopback entries go too.
            forwarded.ForwardedHeaders = options.TrustedProxies.Length > 0 ? ForwardedHeaders.XForwardedFor : ForwardedHeaders.None;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in options.TrustedProxies)
            {
                if (System.Net.IPNetwork.TryParse(proxy, out var network)) forwarded.KnownIPNetworks.Add(network);
                else forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                // The partition helpers replenish every limiter from one shared timer, not one timer each.
                PartitionedRateLimiter.Create<HttpContext, string>(http => Partition(http, key =>
                    RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = options.Burst,
                        TokensPerPeriod = 1,
                        ReplenishmentPeriod = TimeSpan.FromMinutes(1.0 / options.PerMinute),
                        QueueLimit = 0,
                    }))),
                PartitionedRateLimiter.Create<HttpContext, string>(http => Partition(http, key =>
                    RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = options.PerHour,
                        Window = TimeSpan.FromHours(1),
                        QueueLimit = 0,
                    }))));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                IntakeMetrics.RecordRejected("rate_limited");
                await Problems.Status(StatusCodes.Status429TooManyRequests, "Too many signatures from this address.",
                    "Please wait before signing again.").ExecuteAsync(http);
            };
        });
    }

    /// <summary>Forwarded headers (from trusted proxies only), then the limits; after routing, so the endpoint is known.</summary>
    public static WebApplication UseSigningRateLimits(this WebApplication app)
    {
        // Switched off (load tests), neither middleware runs: nothing added to the signing path.
        if (!app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value.Enabled) return app;
        app.UseForwardedHeaders();
        app.UseRateLimiter();
        return app;
    }

    private static RateLimitPartition<string> Partition(HttpContext http, Func<string, RateLimitPartition<string>> partition)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<LimitedEndpoint>() is null)
            return RateLimitPartition.GetNoLimiter("unlimited");
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        // One key per petition however its id is spelled (upper case, braces): no fresh allowance per spelling.
        var raw = http.Request.RouteValues["petitionId"] as string;
        var petition = Guid.TryParse(raw, out var id) ? id.ToString("N") : raw ?? "";
        return partition(address + "|" + petition);
    }
}
