using MassTransit;
using Petition.Contracts;
using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>
/// Notices a petition crossing its target or a power of ten, records it once in PostgreSQL (whichever
/// counter instance sees it first) and publishes <see cref="PetitionMilestoneReached"/>.
/// </summary>
public sealed partial class MilestoneTracker(MilestoneStore store, IBus bus, TimeProvider clock, ILogger<MilestoneTracker> logger)
{
    public const string Target = "target";
    public const string PowerOfTen = "power-of-ten";

    /// <summary>The thresholds crossed going from <paramref name="before"/> to <paramref name="after"/>'s total.</summary>
    public IEnumerable<MilestoneRecord> Crossed(long before, PetitionCount after)
    {
        ArgumentNullException.ThrowIfNull(after);
        var now = clock.GetUtcNow();
        if (before < after.Target && after.Total >= after.Target)
            yield return new MilestoneRecord(after.PetitionId, Target, after.Target, after.Total, now);
        for (var step = 10L; step <= after.Total && step > 0; step *= 10)
        {
            if (step > before) yield return new MilestoneRecord(after.PetitionId, PowerOfTen, step, after.Total, now);
        }
    }

    /// <summary>Records the candidates and publishes those recorded for the first time.</summary>
    public async Task RecordAndPublishAsync(IReadOnlyList<MilestoneRecord> candidates, CancellationToken cancellationToken)
    {
        if (candidates.Count == 0) return;
        await PublishAsync(await store.RecordNewAsync(candidates, cancellationToken), cancellationToken);
    }

    /// <summary>Publishes milestones recorded 30 s ago or more and not confirmed: their counter stopped, or the broker refused.</summary>
    public async Task PublishPendingAsync(CancellationToken cancellationToken) =>
        await PublishAsync(await store.UnpublishedAsync(TimeSpan.FromSeconds(30), cancellationToken), cancellationToken);

    private async Task PublishAsync(IReadOnlyList<MilestoneRecord> milestones, CancellationToken cancellationToken)
    {
        foreach (var m in milestones)
        {
            await bus.Publish(new PetitionMilestoneReached
            {
                PetitionId = m.PetitionId, Kind = m.Kind, Milestone = m.Milestone, Total = m.Total, ReachedAt = m.ReachedAt,
            }, cancellationToken);
            await store.MarkPublishedAsync(m.PetitionId, m.Kind, m.Milestone, cancellationToken);
            LogReached(logger, m.PetitionId, m.Kind, m.Milestone);
        }
    }

    [LoggerMessage(11, LogLevel.Information, "Petition {PetitionId} reached its {Kind} milestone {Milestone}")]
    private static partial void LogReached(ILogger logger, Guid petitionId, string kind, long milestone);
}
