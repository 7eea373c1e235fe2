using System.Collections.Concurrent;

namespace Petition.Counter.Counting;

/// <summary>
/// The latest committed totals of every petition. A petition's figures only ever move to a higher version,
/// so an event seen twice, late or out of order changes nothing: totals never go backwards.
/// </summary>
public sealed class PetitionCounts
{
    private readonly ConcurrentDictionary<Guid, PetitionCount> _counts = new();

    /// <summary>True once loaded from PostgreSQL; before that a missing petition may just not be loaded.</summary>
    public bool IsLoaded { get; set; }

    public PetitionCount? Find(Guid petitionId) => _counts.GetValueOrDefault(petitionId);

    public ICollection<PetitionCount> All => _counts.Values;

    /// <summary>Takes <paramref name="candidate"/> if it is newer; <paramref name="previous"/> is what it replaced.</summary>
    public bool TryAdvance(PetitionCount candidate, out PetitionCount? previous)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        while (true)
        {
            if (!_counts.TryGetValue(candidate.PetitionId, out var current))
            {
                previous = null;
                if (_counts.TryAdd(candidate.PetitionId, candidate)) return true;
                continue;
            }

            previous = current;
            if (candidate.Version <= current.Version) return false;
            if (_counts.TryUpdate(candidate.PetitionId, candidate, current)) return true;
        }
    }

    /// <summary>Replaces a petition's figures at the same version: only for repairing a proven drift. False when a newer came meanwhile.</summary>
    public bool Repair(PetitionCount authoritative)
    {
        ArgumentNullException.ThrowIfNull(authoritative);
        return _counts.TryGetValue(authoritative.PetitionId, out var held) && held.Version == authoritative.Version
            && _counts.TryUpdate(authoritative.PetitionId, authoritative, held);
    }
}
