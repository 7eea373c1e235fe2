using Petition.ServiceDefaults;
using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>Moves a petition's totals forward and sets off what follows: the push to live clients, milestones.</summary>
public sealed class CountUpdater(PetitionCounts counts, ICountListener listener, MilestoneTracker milestones)
{
    /// <summary>
    /// Applies the candidate if it is newer than what is held; returns the milestones it may have crossed
    /// (for the caller to record, in bulk when it applies many).
    /// </summary>
    public IReadOnlyList<MilestoneRecord> Apply(PetitionCount candidate)
    {
        if (!counts.TryAdvance(candidate, out var previous)) return [];
        // A span only for a change: the reconciliation offers every petition's totals every few seconds, and a
        // span for each would bury the signatures' traces.
        using var activity = PetitionTelemetry.Source.StartActivity("totals apply")?
            .SetTag("petition.id", candidate.PetitionId).SetTag("petition.version", candidate.Version);
        listener.Notify(candidate.PetitionId); // the push continues this span's trace
        return [.. milestones.Crossed(previous?.Total ?? 0, candidate)];
    }

    /// <summary>Takes PostgreSQL's figures over a proven drift at the same version, and pushes them out.</summary>
    public void Repair(PetitionCount authoritative)
    {
        ArgumentNullException.ThrowIfNull(authoritative);
        if (counts.Repair(authoritative)) listener.Notify(authoritative.PetitionId);
    }

    /// <summary>Applies one candidate and records its milestones.</summary>
    public Task ApplyAsync(PetitionCount candidate, CancellationToken cancellationToken) =>
        milestones.RecordAndPublishAsync(Apply(candidate), cancellationToken);
}
