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
        var known = counts.Find(changed.PetitionId);
        // A petition this counter has not seen yet (created since it loaded): read it whole, target included.
        var candidate = known is null
            ? await reader.ReadAsync(changed.PetitionId, context.CancellationToken)
            : new PetitionCount(changed.PetitionId, changed.Total, known.Target, changed.ByCountry, changed.Version, changed.LastSignedAt);
        if (candidate is not null) await updater.ApplyAsync(candidate, context.CancellationToken);
    }
}
