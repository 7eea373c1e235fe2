namespace Petition.Contracts;

/// <summary>
/// Event published by a worker after each commit, for every petition the batch touched.
/// It carries absolute totals read inside the committing transaction, and a version that grows with
/// every commit, so a consumer that sees it twice or out of order keeps the highest version.
/// </summary>
public sealed record PetitionTotalsChanged
{
    /// <summary>The petition.</summary>
    public required Guid PetitionId { get; init; }

    /// <summary>Counted signatures (stored, deduplicated, valid, confirmed where the petition asks): equals their COUNT(*).</summary>
    public required long Total { get; init; }

    /// <summary>
    /// Stored signatures awaiting their signer's confirmation, and repeats awaiting it (so it does not tell a repeat
    /// from a new signer); none in <see cref="Total"/>. 0 in events from before it existed.
    /// </summary>
    public long Pending { get; init; }

    /// <summary>Counted signatures per ISO country code.</summary>
    public required IReadOnlyDictionary<string, long> ByCountry { get; init; }

    /// <summary>Grows by one with every commit that changed the totals.</summary>
    public required long Version { get; init; }

    /// <summary>Submission time of the latest stored signature.</summary>
    public DateTimeOffset? LastSignedAt { get; init; }
}
