namespace Petition.Counter.Counting;

/// <summary>
/// Told of every petition whose count moved forward, inside the span of the change (the live push continues its
/// trace). Counting knows no more of who listens, so the streaming of counts depends on counting, never the reverse.
/// </summary>
public interface ICountListener
{
    /// <summary>The petition's count moved forward; the latest is in <see cref="PetitionCounts"/>.</summary>
    void Notify(Guid petitionId);
}
