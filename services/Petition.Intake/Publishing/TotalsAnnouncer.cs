using MassTransit;
using Petition.Contracts;

namespace Petition.Intake.Publishing;

/// <summary>
/// Publishes the totals an admin change or a withdrawal committed, as the workers do after a batch, so the
/// counters push them out at once. Best effort: the change is committed already, and a lost event is
/// caught up by the counters' reconciliation with PostgreSQL.
/// </summary>
internal sealed partial class TotalsAnnouncer(IBus publisher, ILogger<TotalsAnnouncer> logger)
{
    public async Task AnnounceAsync(IReadOnlyList<PetitionTotalsChanged> totals, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await Task.WhenAll(totals.Select(t => publisher.Publish(t, timeout.Token)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNotAnnounced(logger, totals.Count, e.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "New totals of {Count} petitions not published (the counters reconcile with PostgreSQL): {Reason}")]
    private static partial void LogNotAnnounced(ILogger logger, int count, string reason);
}
