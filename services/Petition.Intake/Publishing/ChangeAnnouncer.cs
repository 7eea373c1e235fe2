using MassTransit;
using Petition.Contracts;
using Petition.Storage;

namespace Petition.Intake.Publishing;

/// <summary>
/// Tells the rest of the system what an admin change or a withdrawal committed: the new totals, published
/// as the workers do after a batch so the counters push them at once, and the removed signers, sent to the
/// workers to drop from the dedup cache. Best effort: the change is committed already; lost totals are
/// caught up by the counters' reconciliation, and a signer left in the cache only points at nothing.
/// </summary>
internal sealed class ChangeAnnouncer(IBus bus, ILogger<ChangeAnnouncer> logger)
{
    public async Task AnnounceAsync(AdministrationOutcome outcome, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var sends = outcome.Totals.Select(t => bus.Publish(t.ToChangedEvent(), timeout.Token)).ToList();
            if (outcome.Removed.Count > 0)
            {
                var forget = await bus.GetSendEndpoint(new Uri($"queue:{QueueNames.ForgetSigners}"));
                var signers = outcome.Removed.Select(s => new SignerToForget(s.PetitionId, s.DedupKey)).ToList();
                sends.Add(forget.Send(new ForgetSigners { Signers = signers }, timeout.Token));
            }

            await Task.WhenAll(sends);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.ChangeNotAnnounced(outcome.Totals.Count, outcome.Removed.Count, e.Message);
        }
    }
}
