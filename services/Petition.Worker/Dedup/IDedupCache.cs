namespace Petition.Worker.Dedup;

/// <summary>A signature and its signer's dedup key within a petition.</summary>
public readonly record struct DedupClaim(Guid PetitionId, byte[] DedupKey, Guid SignatureId);

/// <summary>
/// The fast, first line of deduplication; PostgreSQL's unique index is the final word. It holds only
/// signers whose signature is committed, so "taken" always points at a stored row. Every call fails, rather
/// than waits, when the cache is down or slow (within a couple of seconds). Kept this small so that changing
/// the Redis client is a change to one file.
/// </summary>
public interface IDedupCache
{
    /// <summary>False while the cache cannot be reached; callers then skip it rather than wait.</summary>
    bool IsConnected { get; }

    /// <summary>
    /// For each claim, in one round trip: true when its signer is recorded for a different signature.
    /// A signer recorded for the same signature id (a redelivered batch) is not taken.
    /// </summary>
    Task<bool[]> FindTakenAsync(IReadOnlyList<DedupClaim> claims);

    /// <summary>Records committed signatures as the owners of their signers, in one round trip.</summary>
    Task RecordAsync(IReadOnlyList<DedupClaim> committed);

    /// <summary>Drops signers (withdrawn or erased) from the cache, in one round trip.</summary>
    Task ForgetAsync(IReadOnlyList<(Guid PetitionId, byte[] DedupKey)> signers);

    /// <summary>Drops every signer of a petition (anonymised).</summary>
    Task ForgetPetitionAsync(Guid petitionId);

    /// <summary>Round-trip time to the cache; throws when unreachable.</summary>
    Task<TimeSpan> PingAsync();
}
