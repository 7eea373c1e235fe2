using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>A petition as stored.</summary>
public sealed record PetitionRecord(
    Guid PetitionId, string Title, string Description, long Target,
    DateTimeOffset? ClosesAt, DateTimeOffset? ClosedAt, DateTimeOffset CreatedAt,
    string Confirmation = PetitionConfirmation.None, string Language = PetitionLanguages.Default)
{
    /// <summary>Its online signers confirm by email before they count.</summary>
    public bool AsksForEmailConfirmation => Confirmation == PetitionConfirmation.Email;

    /// <summary>Closed by an admin, or past its closing time.</summary>
    public bool IsClosedAt(DateTimeOffset now) => ClosedAt is not null || (ClosesAt is not null && ClosesAt <= now);
}

/// <summary>How a petition's online signers are verified (<c>petitions.confirmation</c>).</summary>
public static class PetitionConfirmation
{
    /// <summary>By a link mailed to them; the default for a new petition.</summary>
    public const string Email = "email";

    /// <summary>By the campaign's own site: they count at once.</summary>
    public const string None = "none";

    /// <summary>Whether <paramref name="value"/> names a policy.</summary>
    public static bool IsKnown(string? value) => value is Email or None;
}

/// <summary>The languages a petition's mails and pages are written in (<c>petitions.language</c>).</summary>
public static class PetitionLanguages
{
    /// <summary>English, unless the petition says otherwise.</summary>
    public const string Default = "en";

    /// <summary>Every language there are mails and pages for.</summary>
    public static readonly IReadOnlyList<string> All = ["en", "ko"];
}

/// <summary>Petitions in PostgreSQL. Every change is announced on <see cref="ChangeChannel"/>.</summary>
public sealed class PetitionRepository(NpgsqlDataSource dataSource)
{
    /// <summary>The LISTEN/NOTIFY channel carrying the id of a created or closed petition.</summary>
    public const string ChangeChannel = "petition_changed";

    private const string Columns = """
        petition_id AS PetitionId, title, description, target, closes_at AS ClosesAt,
        closed_at AS ClosedAt, created_at AS CreatedAt, confirmation, language
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
    public async Task<PetitionRecord> CreateAsync(
        string title, string description, long target, DateTimeOffset? closesAt, string confirmation, string language, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var petition = await connection.QuerySingleAsync<PetitionRecord>(new CommandDefinition($"""
            INSERT INTO petitions (petition_id, title, description, target, closes_at, confirmation, language)
            VALUES (@id, @title, @description, @target, @closesAt, @confirmation, @language)
            RETURNING {Columns}
            """, new { id = Guid.CreateVersion7(), title, description, target, closesAt, confirmation, language }, transaction, cancellationToken: cancellationToken));
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
