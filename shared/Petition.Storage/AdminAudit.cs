using System.Text.Json;
using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>One admin action as audited.</summary>
public sealed record AuditEntry(long AuditId, string Actor, string Action, Guid? PetitionId, JsonElement Details, long Affected, DateTimeOffset At);

/// <summary>
/// The admin audit log: who did what, when, with which criteria and to how many rows. It is written in
/// the transaction of the change it records, so neither exists without the other.
/// </summary>
public sealed class AdminAudit(NpgsqlDataSource dataSource)
{
    /// <summary>Records an action; returns its id.</summary>
    public static Task<long> RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string actor, string action, Guid? petitionId,
        object details, long affected, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            INSERT INTO admin_audit (actor, action, petition_id, details, affected)
            VALUES (@actor, @action, @petitionId, @details::jsonb, @affected) RETURNING audit_id
            """, new { actor, action, petitionId, details = JsonSerializer.Serialize(details), affected }, transaction, cancellationToken: cancellationToken));

    /// <summary>The latest entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> LatestAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition("""
            SELECT audit_id AS AuditId, actor, action, petition_id AS PetitionId, details::text AS Details, affected, at
            FROM admin_audit ORDER BY audit_id DESC LIMIT @limit
            """, new { limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new AuditEntry(r.AuditId, r.Actor, r.Action, r.PetitionId, JsonSerializer.Deserialize<JsonElement>(r.Details), r.Affected, r.At))];
    }

    // The details as PostgreSQL sends them (text), parsed into the entry's JSON above.
    private sealed record Row(long AuditId, string Actor, string Action, Guid? PetitionId, string Details, long Affected, DateTimeOffset At);
}
