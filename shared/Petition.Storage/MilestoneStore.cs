using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>A milestone as recorded.</summary>
public sealed record MilestoneRecord(Guid PetitionId, string Kind, long Milestone, long Total, DateTimeOffset ReachedAt);

/// <summary>Records each milestone once, whichever counter instance notices it first.</summary>
public sealed class MilestoneStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "petition_id AS PetitionId, kind, milestone, total, reached_at AS ReachedAt";

    /// <summary>Records the milestones in one statement; returns those that were not recorded before.</summary>
    public async Task<IReadOnlyList<MilestoneRecord>> RecordNewAsync(IReadOnlyList<MilestoneRecord> candidates, CancellationToken cancellationToken)
    {
        if (candidates.Count == 0) return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var recorded = await connection.QueryAsync<MilestoneRecord>(new CommandDefinition($"""
            INSERT INTO petition_milestones (petition_id, kind, milestone, total)
            SELECT * FROM unnest(@petitions, @kinds, @milestones, @totals)
            ON CONFLICT DO NOTHING
            RETURNING {Columns}
            """, new
        {
            petitions = candidates.Select(c => c.PetitionId).ToArray(),
            kinds = candidates.Select(c => c.Kind).ToArray(),
            milestones = candidates.Select(c => c.Milestone).ToArray(),
            totals = candidates.Select(c => c.Total).ToArray(),
        }, cancellationToken: cancellationToken));
        return [.. recorded];
    }

    /// <summary>Marks a milestone's event as confirmed by the broker.</summary>
    public async Task MarkPublishedAsync(Guid petitionId, string kind, long milestone, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE petition_milestones SET published_at = now() WHERE petition_id = @petitionId AND kind = @kind AND milestone = @milestone",
            new { petitionId, kind, milestone }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Milestones recorded at least <paramref name="settled"/> ago and not yet confirmed as published. A younger one
    /// is being published by the counter that recorded it: a counter starting beside it would publish it twice.
    /// </summary>
    public async Task<IReadOnlyList<MilestoneRecord>> UnpublishedAsync(TimeSpan settled, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var unpublished = await connection.QueryAsync<MilestoneRecord>(new CommandDefinition(
            $"SELECT {Columns} FROM petition_milestones WHERE published_at IS NULL AND reached_at < now() - @settled",
            new { settled }, cancellationToken: cancellationToken));
        return [.. unpublished];
    }
}
