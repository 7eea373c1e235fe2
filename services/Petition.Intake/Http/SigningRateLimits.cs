using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Petition.Intake.Petitions;
using Petition.ServiceDefaults;

namespace Petition.Intake.Http;

/// <summary>Limits on how fast one address (an IPv6 one by its /64) may sign one petition (section "RateLimits").</summary>
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
    /// Signers (address and petition) whose allowances are held, about 80 bytes each; past it, those not seen
    /// for longest start afresh. A million is about a minute of a 20,000-a-second spike.
    /// </summary>
    public int MaxTrackedSigners { get; set; } = 1_000_000;

    /// <summary>
    /// Proxies (addresses, or CIDR ranges such as 10.0.0.0/8) whose X-Forwarded-For is believed: a load
    /// balancer in front of the intake. From anyone else the header is ignored, so it cannot be forged.
    /// It decides the client address for blocks and strike-outs too (see <see cref="SigningClient"/>).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>Signature-status lookups, per client (off with <see cref="Enabled"/>) and at once (always bounded).</summary>
    public StatusLookupOptions StatusLookups { get; set; } = new();
}

/// <summary>
/// Per signer and petition (<see cref="ClientAllowances"/>), chained with a partner key's own quota per
/// minute; over either, 429 with Retry-After. Only the signing endpoint is limited: it is the one bots hammer.
/// A petition the catalog does not know is not limited: its 404 leaves nothing behind.
/// </summary>
internal static class SigningRateLimits
{
    /// <summary>The service key of the signing allowances (status lookups keep their own, in <see cref="StatusLookups"/>).</summary>
    public const string AllowancesKey = "signing";

    public static void AddSigningRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().Bind(builder.Configuration.GetSection("RateLimits"))
            .Validate(o => o.Burst > 0 && o.PerMinute > 0 && o.PerHour > 0 && o.MaxTrackedSigners > 0,
                "RateLimits: Burst, PerMinute, PerHour and MaxTrackedSigners must be positive.")
            .Validate(o => TrustedProxies.AreValid(o.TrustedProxies), "RateLimits:TrustedProxies: " + TrustedProxies.ValidationMessage)
            .Validate(o => o.StatusLookups is { Burst: > 0, PerMinute: > 0, PerHour: > 0, MaxTrackedClients: > 0, MaxConcurrent: > 0 },
                "RateLimits:StatusLookups: Burst, PerMinute, PerHour, MaxTrackedClients and MaxConcurrent must be positive.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddKeyedSingleton(AllowancesKey, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            return new ClientAllowances(new AllowanceLimits(options.Burst, options.PerMinute, options.PerHour, options.MaxTrackedSigners), sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            return new StatusLookups(options.StatusLookups, options.Enabled, sp.GetRequiredService<TimeProvider>());
        });

        builder.Services.AddRateLimiter(limiter => limiter.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
            var http = context.HttpContext;
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            IntakeMetrics.RecordRejected("rate_limited");
            await Problems.Status(StatusCodes.Status429TooManyRequests, "Too many signatures from this address.",
                "Please wait before signing again.").ExecuteAsync(http);
        });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IServiceProvider, PetitionCatalog>((limiter, services, catalog) =>
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                new SignerLimiter(services.GetRequiredKeyedService<ClientAllowances>(AllowancesKey), catalog),
                // A partner's own quota, over all its visitors: one partition per issued key.
                PartitionedRateLimiter.Create<HttpContext, string>(http =>
                    IsLimited(http) && SigningClient.Of(http) is { PartnerKeyId: { } keyId, PartnerPerMinute: var perMinute }
                        ? RateLimitPartition.GetFixedWindowLimiter(keyId.ToString("N"), _ => new FixedWindowRateLimiterOptions
                        {
                            PermitLimit = perMinute,
                            Window = TimeSpan.FromMinutes(1),
                            QueueLimit = 0,
                        })
                        : RateLimitPartition.GetNoLimiter("unlimited"))));
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

    /// <summary>The signer's allowance for a known petition (however its id is spelled: the route parses it).</summary>
    private sealed class SignerLimiter(ClientAllowances allowances, PetitionCatalog catalog) : PartitionedRateLimiter<HttpContext>
    {
        public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

        protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
        {
            if (!IsLimited(resource) || !Guid.TryParse(resource.Request.RouteValues["petitionId"] as string, out var petitionId)
                || catalog.Find(petitionId) is null || SigningClient.Of(resource).Address is not { } address)
            {
                return Lease.Granted;
            }

            var (taken, retryAfter) = allowances.TryTake(petitionId, address);
            return taken ? Lease.Granted : new Lease(retryAfter);
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));
    }

    private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(null);

        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
