using System.Net;
using Npgsql;
using NpgsqlTypes;

namespace Petition.Storage;

/// <summary>What a strike-out covers: one petition, narrowed by any of an address range, an email domain and a time window.</summary>
public sealed record InvalidationCriteria(Guid PetitionId, IPNetwork? AddressRange, string? EmailDomain, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>
/// The outcome of a change to stored signatures: its audit entry (0 for a signer's own withdrawal), how many
/// rows, the new totals, and the signers removed (to drop from the dedup cache).
/// </summary>
public sealed record AdministrationOutcome(long AuditId, long Affected, IReadOnlyList<PetitionTotals> Totals, IReadOnlyList<RemovedSigner> Removed);

/// <summary>A signer whose signature was removed from one petition, by the keyed hash of their email.</summary>
public sealed record RemovedSigner(Guid PetitionId, byte[] DedupKey);

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
/// totals move in one transaction, through the <see cref="TotalsLedger"/> the worker's batches use too, so
/// totals stay equal to COUNT(*) of valid signatures while batches keep committing.
/// </summary>
public sealed class SignatureAdministration(NpgsqlDataSource dataSource)
{
    /// <summary>Marks the matching, still valid signatures invalid; audited with who and the criteria.</summary>
    public Task<AdministrationOutcome> InvalidateAsync(InvalidationCriteria criteria, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        var details = new { AddressRange = criteria.AddressRange?.ToString(), criteria.EmailDomain, criteria.From, criteria.To };
        return InTransactionAsync(actor, "invalidation", criteria.PetitionId, details, (connection, transaction, auditId) =>
            StopCountingAsync(connection, transaction, """
                UPDATE signatures SET invalidated_by = @audit
                WHERE petition_id = @petition AND invalidated_by IS NULL
                  AND (@range::cidr IS NULL OR client_address <<= @range::cidr)
                  -- The domain or any subdomain of it.
                  AND (@domain::text IS NULL OR email_domain = @domain::text OR right(email_domain, length(@domain::text) + 1) = '.' || @domain::text)
                  AND (@from::timestamptz IS NULL OR submitted_at >= @from::timestamptz)
                  AND (@to::timestamptz IS NULL OR submitted_at < @to::timestamptz)
                RETURNING petition_id, country, true AS live, awaiting_confirmation AS awaiting, signature_id, dedup_key
                """, p =>
            {
                p.AddWithValue("audit", auditId);
                p.AddWithValue("petition", criteria.PetitionId);
                p.AddWithValue("range", NpgsqlDbType.Cidr, criteria.AddressRange is { } range ? range : DBNull.Value);
                p.AddWithValue("domain", NpgsqlDbType.Text, (object?)criteria.EmailDomain ?? DBNull.Value);
                p.AddWithValue("from", NpgsqlDbType.TimestampTz, (object?)criteria.From ?? DBNull.Value);
                p.AddWithValue("to", NpgsqlDbType.TimestampTz, (object?)criteria.To ?? DBNull.Value);
            }, removes: false, cancellationToken), cancellationToken);
    }

    /// <summary>Removes one signature at its signer's request. Not audited: the signer acted, not an admin.</summary>
    public async Task<(WithdrawalResult Result, AdministrationOutcome Outcome)> WithdrawAsync(Guid signatureId, CancellationToken cancellationToken)
    {
        var repeat = false;
        var outcome = await InTransactionAsync(null, "withdrawal", null, null, async (connection, transaction, _) =>
        {
            var affected = await StopCountingAsync(connection, transaction, """
                DELETE FROM signatures WHERE signature_id = @id
                RETURNING petition_id, country, invalidated_by IS NULL AS live, awaiting_confirmation AS awaiting, signature_id, dedup_key
                """, p => p.AddWithValue("id", signatureId), removes: true, cancellationToken);
            if (affected.Changed == 0)
            {
                // A repeat: its record goes, with a tombstone so a redelivered batch does not record it again, and
                // out of pending if it was there (a repeat awaiting confirmation is, as a first signature would be).
                await using var duplicate = new NpgsqlCommand($$"""
                    WITH removed AS (
                        DELETE FROM signature_duplicates WHERE signature_id = @id
                        RETURNING petition_id, NULL::text AS country, awaiting_confirmation AS awaiting, signature_id
                    ), live AS (SELECT petition_id, country, awaiting FROM removed WHERE awaiting),
                    {{TotalsLedger.Subtract("live")}},
                    tombstones AS (INSERT INTO signature_removals (signature_id) SELECT signature_id FROM removed ON CONFLICT DO NOTHING)
                    SELECT (SELECT count(*) FROM removed), (SELECT coalesce(array_agg(petition_id), '{}') FROM live)
                    """, connection, transaction);
                duplicate.Parameters.AddWithValue("id", signatureId);
                await using var reader = await duplicate.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                repeat = reader.GetInt64(0) > 0;
                return affected with { Petitions = reader.GetFieldValue<Guid[]>(1) };
            }

            return affected;
        }, cancellationToken);
        return (outcome.Affected > 0 ? WithdrawalResult.Withdrawn : repeat ? WithdrawalResult.RepeatRemoved : WithdrawalResult.NotStored, outcome);
    }

    /// <summary>Removes every signature of one signer (by dedup key), on every petition; audited without the email.</summary>
    public Task<AdministrationOutcome> EraseAsync(byte[] dedupKey, string actor, CancellationToken cancellationToken) =>
        InTransactionAsync(actor, "erasure", null, new { }, (connection, transaction, _) =>
            // Through petitions, so each lookup uses the (petition, dedup key) unique index.
            StopCountingAsync(connection, transaction, """
                DELETE FROM signatures s USING petitions p
                WHERE s.petition_id = p.petition_id AND s.dedup_key = @key
                RETURNING s.petition_id, s.country, s.invalidated_by IS NULL AS live, s.awaiting_confirmation AS awaiting, s.signature_id, s.dedup_key
                """, p => p.AddWithValue("key", dedupKey), removes: true, cancellationToken), cancellationToken);

    /// <summary>
    /// Purges up to <paramref name="limit"/> signatures still awaiting confirmation that were submitted before
    /// <paramref name="before"/> (their link has expired), freeing their signers, and the repeats awaiting recorded
    /// before it; both leave pending. Not audited: the lifetime acted. Tombstoned like a withdrawal, so a late
    /// redelivery does not bring one back.
    /// </summary>
    public Task<AdministrationOutcome> ExpireUnconfirmedAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) =>
        InTransactionAsync(null, "expiry", null, null, async (connection, transaction, _) =>
        {
            // SKIP LOCKED: a row a confirmation holds right now is either confirmed (and stays) or taken next run.
            var expired = await StopCountingAsync(connection, transaction, """
                DELETE FROM signatures WHERE signature_id IN (
                    SELECT signature_id FROM signatures WHERE awaiting_confirmation AND submitted_at < @before
                    ORDER BY signature_id LIMIT @limit FOR UPDATE SKIP LOCKED)
                RETURNING petition_id, country, invalidated_by IS NULL AS live, awaiting_confirmation AS awaiting, signature_id, dedup_key
                """, p => { p.AddWithValue("before", before); p.AddWithValue("limit", limit); }, removes: true, cancellationToken);
            await using var repeats = new NpgsqlCommand($$"""
                WITH removed AS (
                    DELETE FROM signature_duplicates WHERE signature_id IN (
                        SELECT signature_id FROM signature_duplicates WHERE awaiting_confirmation AND recorded_at < @before
                        ORDER BY signature_id LIMIT @limit FOR UPDATE SKIP LOCKED)
                    RETURNING petition_id, NULL::text AS country, true AS awaiting, signature_id
                ),
                {{TotalsLedger.Subtract("removed")}},
                tombstones AS (INSERT INTO signature_removals (signature_id) SELECT signature_id FROM removed ON CONFLICT DO NOTHING)
                SELECT (SELECT count(*) FROM removed), (SELECT coalesce(array_agg(DISTINCT petition_id), '{}') FROM removed)
                """, connection, transaction);
            repeats.Parameters.AddWithValue("before", before);
            repeats.Parameters.AddWithValue("limit", limit);
            await using var reader = await repeats.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return expired with
            {
                Changed = expired.Changed + reader.GetInt64(0),
                Petitions = [.. expired.Petitions.Union(reader.GetFieldValue<Guid[]>(1))],
            };
        }, cancellationToken);

    /// <summary>A petition's signatures, oldest first, streamed; valid means counted (not struck out, confirmed); contact emails (encrypted) only for consenting, counted signers.</summary>
    public async IAsyncEnumerable<ExportedSignature> ExportAsync(Guid petitionId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT signature_id, name, country, postal_code, source, submitted_at, invalidated_by IS NULL AND NOT awaiting_confirmation,
                   -- An unconfirmed signature's email may be someone else's: it is no contact until confirmed.
                   CASE WHEN invalidated_by IS NULL AND NOT awaiting_confirmation THEN contact_email END
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

    private sealed record Affected(Guid[] Petitions, long Changed, IReadOnlyList<RemovedSigner> Removed);

    // One transaction with its audit entry (when an admin acts), retried when PostgreSQL aborts it for a
    // deadlock or a serialisation failure: two admin changes can meet on the same rows in either order.
    private Task<AdministrationOutcome> InTransactionAsync(
        string? actor, string action, Guid? petitionId, object? details,
        Func<NpgsqlConnection, NpgsqlTransaction, long, Task<Affected>> change, CancellationToken cancellationToken)
    {
        return ConflictRetry.RunAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var auditId = actor is null ? 0 : await AdminAudit.RecordAsync(connection, transaction, actor, action, petitionId, details!, 0, cancellationToken);
            var affected = await change(connection, transaction, auditId);
            if (auditId > 0)
            {
                await using var audit = new NpgsqlCommand("UPDATE admin_audit SET affected = @affected WHERE audit_id = @id", connection, transaction);
                audit.Parameters.AddWithValue("affected", affected.Changed);
                audit.Parameters.AddWithValue("id", auditId);
                await audit.ExecuteNonQueryAsync(cancellationToken);
            }

            var totals = await TotalsLedger.ReadAsync(connection, transaction, affected.Petitions, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new AdministrationOutcome(auditId, affected.Changed, totals, affected.Removed);
        }, cancellationToken);
    }

    // Runs the change, which returns (petition_id, country, live, awaiting, signature_id, dedup_key) of each row it
    // took out (live: not struck out before), takes the live ones out of the totals (out of pending when awaiting
    // confirmation) and, for removals, keeps a tombstone of each id.
    private static async Task<Affected> StopCountingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string change, Action<NpgsqlParameterCollection> parameters,
        bool removes, CancellationToken cancellationToken)
    {
        var tombstones = removes
            ? ", tombstones AS (INSERT INTO signature_removals (signature_id) SELECT signature_id FROM changed ON CONFLICT DO NOTHING)"
            : "";
        await using var command = new NpgsqlCommand($$"""
            WITH changed AS ({{change}}),
            live AS (SELECT petition_id, country, awaiting FROM changed WHERE live),
            {{TotalsLedger.Subtract("live")}}{{tombstones}}
            SELECT (SELECT coalesce(array_agg(DISTINCT petition_id), '{}') FROM live),
                   (SELECT coalesce(array_agg(petition_id ORDER BY signature_id), '{}') FROM changed),
                   (SELECT coalesce(array_agg(dedup_key ORDER BY signature_id), '{}') FROM changed)
            """, connection, transaction);
        parameters(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var petitions = reader.GetFieldValue<Guid[]>(1);
        var keys = reader.GetFieldValue<byte[][]>(2);
        // Struck-out signers stay taken (their rows stay); removed ones are to be forgotten everywhere.
        return new Affected(reader.GetFieldValue<Guid[]>(0), petitions.Length, removes ? [.. petitions.Select((p, i) => new RemovedSigner(p, keys[i]))] : []);
    }
}
