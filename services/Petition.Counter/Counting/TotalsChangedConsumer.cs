using MassTransit;
using Petition.Contracts;
using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>Takes each worker commit's absolute totals; never recounts.</summary>
public sealed class TotalsChangedConsumer(PetitionCounts counts, TotalsReader reader, CountUpdater updater) : IConsumer<PetitionTotalsChanged>
{
    public async Task Consume(ConsumeContext<PetitionTotalsChanged> context)
    {
        var changed = context.Message;
        if (counts.Find(changed.PetitionId) is { } known)
        {
            await updater.ApplyAsync(
                new PetitionCount(changed.PetitionId, changed.Total, known.Target, changed.ByCountry, changed.Version, changed.LastSignedAt, changed.Pending),
                context.CancellationToken);
        }
        // A petition this counter has not seen yet (created since it loaded): read it whole, target included.
        else if (await reader.ReadAsync(changed.PetitionId, context.CancellationToken) is { } committed)
        {
            await updater.ApplyAsync(PetitionCount.Of(committed), context.CancellationToken);
        }
    }
}
