using System.Net;
using Npgsql;
using NpgsqlTypes;
using Petition.Contracts;

namespace Petition.Storage;

/// <summary>What a strike-out covers: one petition, narrowed by any of an address range, an email domain and a time window.</summary>
public sealed record InvalidationCriteria(Guid PetitionId, IPNetwork? AddressRange, string? EmailDomain, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>The outcome of an admin change to stored signatures: its audit entry, how many rows, and the new totals.</summary>
public sealed record AdministrationOutcome(long AuditId, long Affected, IReadOnlyList<PetitionTotalsChanged> Totals);

/// <summary>What happened to a withdrawal.</summary>
public enum WithdrawalResult
{
    /// <summary>The signature was removed (and no longer counts).</summary>
    Withdrawn,

    /// <summary>It had repeated an earlier signer and was never counted; its record is removed.</summary>
    RepeatRemoved,

    /// <summary>Not stored yet (still on its way through the queue), or already withdrawn.</summary>
    NotStored,
}

/// <summary>One row of a petition's export.</summary>
public sealed record ExportedSignature(
    Guid SignatureId, string Name, string Country, string? PostalCode, string Source, DateTimeOffset SubmittedAt, bool Valid, byte[]? ContactEmail);

/// <summary>
/// Admin changes to stored signatures (strike-outs, withdrawals, erasures) and exports. A change and its
/// totals move in one transaction, and the totals move by exactly the rows that stopped counting, in the
/// worker's lock order (country rows, then the petition row, each sorted), so totals stay equal to
/// COUNT(*) of valid signatures while batches keep committing.
/// </summary>
public sealed class SignatureAdministration(NpgsqlDataSource dataSource)
{
    /// <summary>Marks the matching, still valid signatures invalid; audited with who and the criteria.</summary>
    public async Task<AdministrationOutcome> InvalidateAsync(InvalidationCriteria criteria, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var details = new
        {
            AddressRange = criteria.AddressRange?.ToString(), criteria.EmailDomain, criteria.From, criteria.To,
        };
        var auditId = await AdminAudit.RecordAsync(connection, transaction, actor, "invalidation", criteria.PetitionId, details, 0, cancellationToken);
        var affected = await StopCountingAsync(connection, transaction, """
            UPDATE signatures SET invalidated_by = @audit
            WHERE petition_id = @petition AND invalidated_by IS NULL
              AND (@range::cidr IS NULL OR client_address <<= @range::cidr)
              AND (@domain::text IS NULL OR email_domain = @domain::text)
              AND (@from::timestamptz IS NULL OR submitted_at >= @from::timestamptz)
              AND (@to::timestamptz IS NULL OR submitted_at < @to::timestamptz)
            RETURNING petition_id, country
            """, p =>
        {
            p.AddWithValue("audit", auditId);
            p.AddWithValue("petition", criteria.PetitionId);
            p.AddWithValue("range", NpgsqlDbType.Cidr, criteria.AddressRange is { } range ? range : DBNull.Value);
            p.AddWithValue("domain", NpgsqlDbType.Text, (object?)criteria.EmailDomain ?? DBNull.Value);
            p.AddWithValue("from", NpgsqlDbType.TimestampTz, (object?)criteria.From ?? DBNull.Value);
            p.AddWithValue("to", NpgsqlDbType.TimestampTz, (object?)criteria.To ?? DBNull.Value);
        }, cancellationToken);
        return await FinishAsync(connection, transaction, auditId, affected, cancellationToken);
    }

    /// <summary>Removes one signature at its signer's request. Not audited by name: the signer acted, not an admin.</summary>
    public async Task<(WithdrawalResult Result, IReadOnlyList<PetitionTotalsChanged> Totals)> WithdrawAsync(Guid signatureId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var affected = await StopCountingAsync(connection, transaction, """
            DELETE FROM signatures WHERE signature_id = @id RETURNING petition_id, country, invalidated_by
            """, p => p.AddWithValue("id", signatureId), cancellationToken, includesInvalid: true);
        if (affected.Deleted > 0)
        {
            var outcome = await FinishAsync(connection, transaction, 0, affected, cancellationToken);
            return (WithdrawalResult.Withdrawn, outcome.Totals);
        }

        await using var repeat = new NpgsqlCommand("DELETE FROM signature_duplicates WHERE signature_id = @id", connection, transaction);
        repeat.Parameters.AddWithValue("id", signatureId);
        var removed = await repeat.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (removed > 0 ? WithdrawalResult.RepeatRemoved : WithdrawalResult.NotStored, []);
    }

    /// <summary>Removes every signature of one signer (by dedup key), on every petition; audited without the email.</summary>
    public async Task<AdministrationOutcome> EraseAsync(byte[] dedupKey, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var auditId = await AdminAudit.RecordAsync(connection, transaction, actor, "erasure", null, new { }, 0, cancellationToken);
        // Through petitions, so each lookup uses the (petition, dedup key) unique index.
        var affected = await StopCountingAsync(connection, transaction, """
            DELETE FROM signatures s USING petitions p
            WHERE s.petition_id = p.petition_id AND s.dedup_key = @key
            RETURNING s.petition_id, s.country, s.invalidated_by
            """, p => p.AddWithValue("key", dedupKey), cancellationToken, includesInvalid: true);
        return await FinishAsync(connection, transaction, auditId, affected, cancellationToken);
    }

    /// <summary>A petition's signatures, oldest first, streamed; contact emails (encrypted) only for consenting, valid signers.</summary>
    public async IAsyncEnumerable<ExportedSignature> ExportAsync(Guid petitionId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT signature_id, name, country, postal_code, source, submitted_at, invalidated_by IS NULL,
                   CASE WHEN invalidated_by IS NULL THEN contact_email END
            FROM signatures WHERE petition_id = @petition ORDER BY submitted_at, signature_id
            """, connection);
        command.Parameters.AddWithValue("petition", petitionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new ExportedSignature(reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7));
        }
    }

    private sealed record Affected(long Deleted, long Counted, Guid[] Petitions);

    // Runs the change (which returns petition_id, country[, invalidated_by] of each row it took out) and
    // subtracts the rows that were counted from the totals.
    private static async Task<Affected> StopCountingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string change, Action<NpgsqlParameterCollection> parameters,
        CancellationToken cancellationToken, bool includesInvalid = false)
    {
        var counted = includesInvalid ? "SELECT petition_id, country FROM changed WHERE invalidated_by IS NULL" : "SELECT petition_id, country FROM changed";
        await using var command = new NpgsqlCommand($$"""
            WITH changed AS ({{change}}),
            counted AS ({{counted}}),
            by_country AS (
                INSERT INTO petition_country_totals AS t (petition_id, country, total)
                SELECT petition_id, country, -count(*) FROM counted GROUP BY petition_id, country ORDER BY petition_id, country
                ON CONFLICT (petition_id, country) DO UPDATE SET total = t.total + excluded.total
            ), by_petition AS (
                INSERT INTO petition_totals AS t (petition_id, total, version)
                SELECT petition_id, -count(*), 1 FROM counted GROUP BY petition_id ORDER BY petition_id
                ON CONFLICT (petition_id) DO UPDATE SET total = t.total + excluded.total, version = t.version + 1
            )
            SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM counted),
                   (SELECT coalesce(array_agg(DISTINCT petition_id), '{}') FROM counted)
            """, connection, transaction);
        parameters(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Affected(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<Guid[]>(2));
    }

    private static async Task<AdministrationOutcome> FinishAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long auditId, Affected affected, CancellationToken cancellationToken)
    {
        if (auditId > 0)
        {
            await using var audit = new NpgsqlCommand("UPDATE admin_audit SET affected = @affected WHERE audit_id = @id", connection, transaction);
            audit.Parameters.AddWithValue("affected", affected.Deleted);
            audit.Parameters.AddWithValue("id", auditId);
            await audit.ExecuteNonQueryAsync(cancellationToken);
        }

        var totals = await TotalsReader.ReadInAsync(connection, transaction, affected.Petitions, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AdministrationOutcome(auditId, affected.Deleted, totals);
    }
}
