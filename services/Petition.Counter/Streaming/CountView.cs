using Petition.Counter.Counting;

namespace Petition.Counter.Streaming;

/// <summary>
/// What a campaign page shows, "127,412 signatures from 104 countries" (and "312 awaiting confirmation" where it
/// asks signers to confirm by email): the JSON of the count and of each pushed event.
/// </summary>
public sealed record CountView(
    Guid PetitionId, long Total, long Target, int Countries, IReadOnlyDictionary<string, long> ByCountry, DateTimeOffset? UpdatedAt, long Version, long Pending)
{
    public static CountView Of(PetitionCount c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new(c.PetitionId, c.Total, c.Target, c.ByCountry.Count, c.ByCountry, c.LastSignedAt, c.Version, c.Pending);
    }
}
