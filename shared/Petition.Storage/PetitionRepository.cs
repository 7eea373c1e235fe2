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

    // Npgsql reads timestamptz as a UTC DateTime; the public record speaks DateTimeOffset.
    private sealed record Row(Guid PetitionId, string Title, string Description, long Target, DateTime? ClosesAt, DateTime? ClosedAt, DateTime CreatedAt)
    {
        public PetitionRecord ToRecord() => new(PetitionId, Title, Description, Target, Utc(ClosesAt), Utc(ClosedAt), new DateTimeOffset(CreatedAt, TimeSpan.Zero));

        private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? new DateTimeOffset(v, TimeSpan.Zero) : null;
    }

    /// <summary>All petitions, newest first.</summary>
    public async Task<IReadOnlyList<PetitionRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM petitions ORDER BY created_at DESC", cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <summary>One petition, or null.</summary>
    public async Task<PetitionRecord?> FindAsync(Guid petitionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM petitions WHERE petition_id = @petitionId", new { petitionId }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>Creates a petition with zero totals and announces it.</summary>
    public async Task<PetitionRecord> CreateAsync(string title, string description, long target, DateTimeOffset? closesAt, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition($"""
            INSERT INTO petitions (petition_id, title, description, target, closes_at)
            VALUES (@id, @title, @description, @target, @closesAt)
            RETURNING {Columns}
            """, new { id = Guid.CreateVersion7(), title, description, target, closesAt }, transaction, cancellationToken: cancellationToken));
        var petition = row.ToRecord();
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
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            WITH closed AS (
                UPDATE petitions SET closed_at = coalesce(closed_at, now()) WHERE petition_id = @petitionId
                RETURNING {Columns}),
            announced AS (SELECT pg_notify(@channel, @petitionId::text) FROM closed)
            SELECT closed.* FROM closed, announced
            """, new { petitionId, channel = ChangeChannel }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }
}
