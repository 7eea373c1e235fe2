using Microsoft.Extensions.Options;
using Petition.Storage;
using Polly;
using Polly.Retry;

namespace Petition.Worker.Storing;

/// <summary>
/// The one retry policy of storing: a batch whose transaction failed transiently (<see cref="PostgresErrors.IsTransient"/>:
/// PostgreSQL down, restarting, failed over to read-only, a deadlock) is tried again, with jittered exponential
/// back-off of at most Worker:MaxRetryDelay, for as long as it takes or until the worker stops. Meanwhile the
/// batch stays unacked, so nothing is lost, and nothing is parked in the error queue for an outage.
/// </summary>
public sealed partial class StoreRetry
{
    private static readonly ResiliencePropertyKey<int> Signatures = new("petition.signatures");

    private readonly ResiliencePipeline _pipeline;

    public StoreRetry(IOptions<WorkerOptions> options, ILogger<StoreRetry> logger)
    {
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(PostgresErrors.IsTransient),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = options.Value.MaxRetryDelay,
                OnRetry = retry =>
                {
                    LogRetrying(logger, retry.Context.Properties.GetValue(Signatures, 0), retry.AttemptNumber + 1,
                        retry.RetryDelay.TotalMilliseconds, retry.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Runs one attempt at storing <paramref name="signatures"/> signatures, and again after each transient failure.</summary>
    public async Task<T> ExecuteAsync<T>(int signatures, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Signatures, signatures);
        try
        {
            return await _pipeline.ExecuteAsync(async c => await attempt(c.CancellationToken), context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(2, LogLevel.Warning, "PostgreSQL unavailable for a batch of {Count} (attempt {Attempt}); retrying in {DelayMs} ms, batch stays unacked: {Reason}")]
    private static partial void LogRetrying(ILogger logger, int count, int attempt, double delayMs, string? reason);
}
