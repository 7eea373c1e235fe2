using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>
/// Learns each petition as it is created (LISTEN/NOTIFY), so a count request for an id the counter does not
/// hold is answered 404 from memory, never by asking PostgreSQL: a stranger's random ids cost it nothing.
/// After each (re)connect the reconciler reads everything, for any petition created while not listening.
/// </summary>
public sealed partial class NewPetitions(
    PetitionChanges changes, PetitionCounts counts, TotalsReader reader, CountUpdater updater, CountReconciler reconciler,
    ILogger<NewPetitions> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await changes.ListenAsync(_ =>
                {
                    reconciler.RequestReload();
                    return Task.CompletedTask;
                }, LearnAsync, TimeSpan.FromSeconds(30), null, stoppingToken);
            }
            catch (Exception e) when ((PostgresErrors.IsTransient(e) || e is MassTransit.MassTransitException) && !stoppingToken.IsCancellationRequested)
            {
                LogNotListening(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task LearnAsync(Guid petitionId, CancellationToken cancellationToken)
    {
        if (counts.Find(petitionId) is not null) return; // closed, or already brought by its first totals
        if (await reader.ReadAsync(petitionId, cancellationToken) is { } committed) await updater.ApplyAsync(PetitionCount.Of(committed), cancellationToken);
    }

    [LoggerMessage(31, LogLevel.Warning, "Not hearing new petitions from PostgreSQL; retrying: {Reason}")]
    private static partial void LogNotListening(ILogger logger, string reason);
}
