using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>
/// Loads every petition's totals from PostgreSQL at start, again on demand, and every ReconcileInterval,
/// so a counter that was down or missed events is right again. A figure PostgreSQL has at a newer version
/// than the counter is taken (and logged as a repair when events should have brought it).
/// </summary>
public sealed partial class CountReconciler(
    TotalsReader reader, PetitionCounts counts, CountUpdater updater, MilestoneTracker milestones,
    IOptions<CounterOptions> options, ILogger<CountReconciler> logger) : BackgroundService
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

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
                LogFailed(logger, e.Message);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(counts.IsLoaded ? options.Value.ReconcileInterval : TimeSpan.FromSeconds(2));
            try
            {
                await _requests.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var firstLoad = !counts.IsLoaded;
        var crossed = new List<MilestoneRecord>();
        var repaired = 0;
        foreach (var committed in (await reader.ReadAllAsync(cancellationToken)).Select(PetitionCount.Of))
        {
            var held = counts.Find(committed.PetitionId);
            if (held is not null && held.Version == committed.Version && held.Total != committed.Total)
            {
                // Same version, different figure: cannot happen through events; trust PostgreSQL.
                LogDrift(logger, committed.PetitionId, held.Total, committed.Total);
                counts.Repair(committed);
                repaired++;
                continue;
            }

            var newMilestones = updater.Apply(committed);
            crossed.AddRange(newMilestones);
            if (!firstLoad && held is not null && held.Version < committed.Version && counts.Find(committed.PetitionId) == committed)
            {
                LogCaughtUp(logger, committed.PetitionId, held.Total, committed.Total);
                repaired++;
            }
        }

        counts.IsLoaded = true;
        await milestones.RecordAndPublishAsync(crossed, cancellationToken);
        if (firstLoad) await milestones.PublishPendingAsync(cancellationToken);
        if (firstLoad || repaired > 0) LogReconciled(logger, counts.All.Count, repaired);
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
