using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>A petition as stored.</summary>
public sealed record PetitionRecord(
    Guid PetitionId, string Title, string Description, long Target,
    DateTimeOffset? ClosesAt, DateTimeOffset? ClosedAt, DateTimeOffset CreatedAt)
{
    /// <summary>Closed by an admin, or past its closing time.</summary>
    public bool IsClosedAt(DateTimeOffset now) => ClosedAt is not null || (ClosesAt is not null && ClosesAt <= now);
}

/// <summary>Petitions in PostgreSQL. Every change is announced on <see cref="ChangeChannel"/>.</summary>
public sealed class PetitionRepository(NpgsqlDataSource dataSource)
{
    /// <summary>The LISTEN/NOTIFY channel carrying the id of a created or closed petition.</summary>
    public const string ChangeChannel = "petition_changed";

    private const string Columns = """
        petition_id AS PetitionId, title, description, target, closes_at AS ClosesAt,
        closed_at AS ClosedAt, created_at AS CreatedAt
        """;

    /// <summary>All petitions, newest first.</summary>
    public async Task<IReadOnlyList<PetitionRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<PetitionRecord>(new CommandDefinition(
            $"SELECT {Columns} FROM petitions ORDER BY created_at DESC", cancellationToken: cancellationToken));
        return [.. rows];
    }

    /// <summary>One petition, or null.</summary>
    public async Task<PetitionRecord?> FindAsync(Guid petitionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<PetitionRecord>(new CommandDefinition(
            $"SELECT {Columns} FROM petitions WHERE petition_id = @petitionId", new { petitionId }, cancellationToken: cancellationToken));
    }

    /// <summary>Creates a petition with zero totals and announces it.</summary>
    public async Task<PetitionRecord> CreateAsync(string title, string description, long target, DateTimeOffset? closesAt, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var petition = await connection.QuerySingleAsync<PetitionRecord>(new CommandDefinition($"""
            INSERT INTO petitions (petition_id, title, description, target, closes_at)
            VALUES (@id, @title, @description, @target, @closesAt)
            RETURNING {Columns}
            """, new { id = Guid.CreateVersion7(), title, description, target, closesAt }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO petition_totals (petition_id) VALUES (@id); SELECT pg_notify(@channel, @id::text)",
            new { id = petition.PetitionId, channel = ChangeChannel }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return petition;
    }

    /// <summary>Closes a petition (idempotent) and announces it; null when there is no such petition.</summary>
    public async Task<PetitionRecord?> CloseAsync(Guid petitionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<PetitionRecord>(new CommandDefinition($"""
            WITH closed AS (
                UPDATE petitions SET closed_at = coalesce(closed_at, now()) WHERE petition_id = @petitionId
                RETURNING {Columns}),
            announced AS (SELECT pg_notify(@channel, @petitionId::text) FROM closed)
            SELECT closed.* FROM closed, announced
            """, new { petitionId, channel = ChangeChannel }, cancellationToken: cancellationToken));
    }
}
