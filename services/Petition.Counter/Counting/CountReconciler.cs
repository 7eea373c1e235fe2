using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>
/// Loads every petition's totals from PostgreSQL at start, again on demand, and every ReconcileInterval,
/// so a counter that was down or missed events is right again. A figure PostgreSQL has at a newer version
/// than the counter is taken (and logged as a repair when events should have brought it). While totals events
/// do not arrive (<see cref="TotalsFeed"/>), every ReconcileIntervalWithoutEvents instead, and once when they resume.
/// </summary>
public sealed partial class CountReconciler : BackgroundService
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TotalsReader _reader;
    private readonly PetitionCounts _counts;
    private readonly CountUpdater _updater;
    private readonly MilestoneTracker _milestones;
    private readonly TotalsFeed _feed;
    private readonly IOptions<CounterOptions> _options;
    private readonly ILogger<CountReconciler> _logger;

    public CountReconciler(TotalsReader reader, PetitionCounts counts, CountUpdater updater, MilestoneTracker milestones,
        TotalsFeed feed, IOptions<CounterOptions> options, ILogger<CountReconciler> logger)
    {
        (_reader, _counts, _updater, _milestones, _feed, _options, _logger) = (reader, counts, updater, milestones, feed, options, logger);
        feed.Resumed += RequestReload;
    }

    /// <summary>Asks for a reload now (the admin "reload" endpoint).</summary>
    public void RequestReload() => _requests.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception e) when ((PostgresErrors.IsTransient(e) || e is MassTransit.MassTransitException) && !stoppingToken.IsCancellationRequested)
            {
                LogFailed(_logger, e.Message);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(NextInterval());
            try
            {
                await _requests.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private TimeSpan NextInterval() =>
        !_counts.IsLoaded ? TimeSpan.FromSeconds(2)
        : _feed.IsReceiving ? _options.Value.ReconcileInterval
        : _options.Value.ReconcileIntervalWithoutEvents;

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var firstLoad = !_counts.IsLoaded;
        var crossed = new List<MilestoneRecord>();
        var repaired = 0;
        foreach (var committed in (await _reader.ReadAllAsync(cancellationToken)).Select(PetitionCount.Of))
        {
            var held = _counts.Find(committed.PetitionId);
            if (held is not null && held.Version == committed.Version && (held.Total != committed.Total || held.Pending != committed.Pending))
            {
                // Same version, different figure: cannot happen through events; trust PostgreSQL.
                LogDrift(_logger, committed.PetitionId, held.Total, committed.Total);
                _updater.Repair(committed);
                repaired++;
                continue;
            }

            var newMilestones = _updater.Apply(committed);
            crossed.AddRange(newMilestones);
            if (!firstLoad && held is not null && held.Version < committed.Version && _counts.Find(committed.PetitionId) == committed)
            {
                LogCaughtUp(_logger, committed.PetitionId, held.Total, committed.Total);
                repaired++;
            }
        }

        _counts.IsLoaded = true;
        await _milestones.RecordAndPublishAsync(crossed, cancellationToken);
        // Every time, not only at start: one recorded by a counter that died, or whose publish failed, goes out
        // within a reconcile of turning 30 s old.
        await _milestones.PublishPendingAsync(cancellationToken);
        if (firstLoad || repaired > 0) LogReconciled(_logger, _counts.All.Count, repaired);
    }

    [LoggerMessage(1, LogLevel.Information, "Totals reconciled with PostgreSQL: {Petitions} petitions, {Repaired} repaired")]
    private static partial void LogReconciled(ILogger logger, int petitions, int repaired);

    [LoggerMessage(2, LogLevel.Debug, "Petition {PetitionId} caught up from PostgreSQL: {Held} -> {Committed}")]
    private static partial void LogCaughtUp(ILogger logger, Guid petitionId, long held, long committed);

    [LoggerMessage(3, LogLevel.Warning, "Petition {PetitionId} drifted: counter had {Held}, PostgreSQL has {Committed} at the same version; repaired")]
    private static partial void LogDrift(ILogger logger, Guid petitionId, long held, long committed);

    [LoggerMessage(4, LogLevel.Warning, "Could not reconcile totals with PostgreSQL; retrying: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}

/// <summary>Not ready until the totals were loaded once: before that every count would read zero.</summary>
internal sealed class CountsLoadedHealthCheck(PetitionCounts counts) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(counts.IsLoaded
            ? HealthCheckResult.Healthy("Totals loaded.")
            : HealthCheckResult.Unhealthy("Totals not loaded yet from PostgreSQL."));
}
