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
    /// It decides the client address for blocks and strike-outs too (see <see cref="SigningClient"/>).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
}

/// <summary>
/// Per client address and petition, a burst (token bucket) and a sustained limit (hourly window), chained
/// with a partner key's own quota per minute; over any, 429 with Retry-After. Only the signing endpoint is
/// limited: it is the one bots hammer.
/// </summary>
internal static class SigningRateLimits
{
    public static void AddSigningRateLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("RateLimits").Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection("RateLimits"))
            .Validate(o => o.Burst > 0 && o.PerMinute > 0 && o.PerHour > 0, "RateLimits: Burst, PerMinute and PerHour must be positive.")
            .Validate(o => o.TrustedProxies.All(p => System.Net.IPNetwork.TryParse(p, out _) || IPAddress.TryParse(p, out _)),
                "RateLimits:TrustedProxies: each must be an address or a CIDR range without host bits (10.0.0.0/8, not 10.0.0.1/8).")
            .ValidateOnStart();

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
                    }))),
                // A partner's own quota, over all its visitors.
                PartitionedRateLimiter.Create<HttpContext, string>(http =>
                    IsLimited(http) && SigningClient.Of(http) is { PartnerKeyId: { } keyId, PartnerPerMinute: var perMinute }
                        ? RateLimitPartition.GetFixedWindowLimiter(keyId.ToString("N"), _ => new FixedWindowRateLimiterOptions
                        {
                            PermitLimit = perMinute,
                            Window = TimeSpan.FromMinutes(1),
                            QueueLimit = 0,
                        })
                        : RateLimitPartition.GetNoLimiter("unlimited")));
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

    /// <summary>The limits, after routing (so the endpoint is known) and after the signing client is known.</summary>
    public static WebApplication UseSigningRateLimits(this WebApplication app)
    {
        // Switched off (load tests), the limiter does not run: nothing added to the signing path.
        if (app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value.Enabled) app.UseRateLimiter();
        return app;
    }

    private static bool IsLimited(HttpContext http) =>
        HttpMethods.IsPost(http.Request.Method) && http.GetEndpoint()?.Metadata.GetMetadata<SigningClient.SigningEndpoint>() is not null;

    private static RateLimitPartition<string> Partition(HttpContext http, Func<string, RateLimitPartition<string>> partition)
    {
        if (!IsLimited(http)) return RateLimitPartition.GetNoLimiter("unlimited");
        // The visitor's address when a partner signs for them.
        var address = SigningClient.Of(http).Address?.ToString() ?? "unknown";
        // One key per petition however its id is spelled (upper case, braces): no fresh allowance per spelling.
        var raw = http.Request.RouteValues["petitionId"] as string;
        var petition = Guid.TryParse(raw, out var id) ? id.ToString("N") : raw ?? "";
        return partition(address + "|" + petition);
    }
}
