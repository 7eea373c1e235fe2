using Microsoft.Extensions.Diagnostics.HealthChecks;
using Petition.Contracts;

namespace Petition.Worker.Dedup;

/// <summary>
/// Where a signature is first deduplicated: asks the cache which signers already belong to another,
/// committed signature, and tells it of the newly committed ones. When the cache is unreachable it
/// answers "none taken" and PostgreSQL's unique index alone decides, so storing never stops for Redis.
/// </summary>
public sealed partial class SignatureDeduplicator(IDedupCache cache, ILogger<SignatureDeduplicator> logger)
{
    private int _degraded;

    /// <summary>For each signature, true when its signer already belongs to another stored signature.</summary>
    public async Task<IReadOnlyList<bool>> FindTakenAsync(IReadOnlyList<AcceptedSignature> signatures)
    {
        var taken = await TryAsync(() => cache.FindTakenAsync(Claims(signatures)));
        return taken ?? new bool[signatures.Count];
    }

    /// <summary>
    /// Records the committed signatures. Best effort: a signer missing from the cache only costs a trip to
    /// PostgreSQL's unique index later.
    /// </summary>
    public async Task RecordCommittedAsync(IReadOnlyList<AcceptedSignature> signatures, IReadOnlySet<Guid> committed)
    {
        var claims = Claims(signatures.Where(s => committed.Contains(s.SignatureId)).ToList());
        if (claims.Length > 0) await TryAsync(async () => { await cache.RecordAsync(claims); return claims; });
    }

    private static DedupClaim[] Claims(IReadOnlyList<AcceptedSignature> signatures) =>
        [.. signatures.Select(s => new DedupClaim(s.PetitionId, s.DedupKey, s.SignatureId))];

    private async Task<T?> TryAsync<T>(Func<Task<T>> call) where T : class
    {
        if (!cache.IsConnected)
        {
            if (Interlocked.Exchange(ref _degraded, 1) == 0) LogUnavailable(logger, "not connected");
            return null;
        }

        try
        {
            var result = await call();
            if (Interlocked.Exchange(ref _degraded, 0) == 1) LogRecovered(logger);
            return result;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (Interlocked.Exchange(ref _degraded, 1) == 0) LogUnavailable(logger, e.Message);
            return null;
        }
    }

    [LoggerMessage(11, LogLevel.Warning, "Redis unavailable ({Reason}): deduplicating through PostgreSQL alone until it returns")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    [LoggerMessage(12, LogLevel.Information, "Redis is back: deduplicating through it again")]
    private static partial void LogRecovered(ILogger logger);
}

/// <summary>Readiness: Redis answers. (The worker keeps storing without it, but is degraded.)</summary>
internal sealed class DedupCacheHealthCheck(IDedupCache cache) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await cache.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:F1} ms.");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer: " + e.Message);
        }
    }
}
