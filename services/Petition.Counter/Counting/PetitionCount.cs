using Petition.Storage;

namespace Petition.Counter.Counting;

/// <summary>A petition's committed totals as the counter holds and serves them: what PostgreSQL has, and its target.</summary>
public sealed record PetitionCount(
    Guid PetitionId, long Total, long Target, IReadOnlyDictionary<string, long> ByCountry, long Version, DateTimeOffset? LastSignedAt, long Pending)
{
    /// <summary>The count of committed totals read from PostgreSQL.</summary>
    public static PetitionCount Of(PetitionProgress committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        var totals = committed.Totals;
        return new(totals.PetitionId, totals.Total, committed.Target, totals.ByCountry, totals.Version, totals.LastSignedAt, totals.Pending);
    }
}
