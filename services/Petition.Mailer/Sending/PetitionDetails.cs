using System.Collections.Concurrent;
using Petition.Storage;

namespace Petition.Mailer.Sending;

/// <summary>The petitions' titles and languages, read from PostgreSQL once a few minutes per petition (a mail names its petition).</summary>
internal sealed class PetitionDetails(PetitionRepository repository, TimeProvider clock)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<Guid, (PetitionRecord Petition, DateTimeOffset ReadAt)> _read = new();

    public async Task<PetitionRecord?> FindAsync(Guid petitionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (_read.TryGetValue(petitionId, out var known) && now - known.ReadAt < Freshness) return known.Petition;
        // Only ids the intake accepted a signature for reach here, so this holds no more entries than there are petitions.
        var petition = await repository.FindAsync(petitionId, cancellationToken);
        if (petition is not null) _read[petitionId] = (petition, now);
        return petition;
    }
}
