namespace Petition.Contracts;

/// <summary>
/// Event: a petition's total crossed its target or a power of ten. Published once per milestone; a consumer
/// that must be exact dedupes on (PetitionId, Kind, Milestone), as a crash can repeat the publish.
/// </summary>
public sealed record PetitionMilestoneReached
{
    /// <summary>The petition.</summary>
    public required Guid PetitionId { get; init; }

    /// <summary>"target" or "power-of-ten".</summary>
    public required string Kind { get; init; }

    /// <summary>The threshold crossed (the target, or 10, 100, 1000, ...).</summary>
    public required long Milestone { get; init; }

    /// <summary>The total when it was noticed (at least the milestone).</summary>
    public required long Total { get; init; }

    /// <summary>When it was recorded.</summary>
    public required DateTimeOffset ReachedAt { get; init; }
}
