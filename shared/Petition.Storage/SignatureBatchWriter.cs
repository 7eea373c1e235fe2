using System.Net;
using Npgsql;
using NpgsqlTypes;
using Petition.Contracts;

namespace Petition.Storage;

/// <summary>
/// What one committed batch did: how many rows this attempt inserted and recorded as duplicates, which of
/// the batch's signatures are stored (by this attempt or an earlier one), the petitions' new totals, and, for each
/// signature awaiting confirmation that repeats a stored one, that one (its signer's mail is about it).
/// </summary>
public sealed record BatchOutcome(
    int Stored, int Duplicates, IReadOnlySet<Guid> StoredSignatureIds, IReadOnlyList<PetitionTotals> Totals,
    IReadOnlyDictionary<Guid, RepeatedSignature> Repeated);

/// <summary>The stored signature of the same signer that a repeat repeats, and whether it still awaits confirmation.</summary>
public sealed record RepeatedSignature(Guid SignatureId, bool Awaiting);

/// <summary>Starts the one-transaction write of a batch of signatures.</summary>
public sealed class SignatureBatchWriter(NpgsqlDataSource dataSource)
{
    /// <summary>Opens a connection and a transaction for one batch.</summary>
    public async Task<SignatureBatchWrite> BeginAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new SignatureBatchWrite(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

/// <summary>
/// One batch, one PostgreSQL transaction: binary COPY into a per-connection staging table, then a single
/// merge that inserts the new signers, records duplicates and moves the totals. Nothing is visible until
/// <see cref="CommitAsync"/>, and the message is acked only after it, so a crash anywhere redelivers the
/// batch; the redelivery finds its rows by signature id and neither loses nor double-counts them.
/// </summary>
public sealed class SignatureBatchWrite : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly HashSet<Guid> _petitions = [];

    internal SignatureBatchWrite(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>
    /// Copies the signatures into staging. <paramref name="knownDuplicate"/>[i] is true when the dedup cache
    /// attributes row i's signer to another, stored signature: it is then recorded as a duplicate, not inserted.
    /// </summary>
    public async Task CopyAsync(IReadOnlyList<AcceptedSignature> signatures, IReadOnlyList<bool> knownDuplicate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        ArgumentNullException.ThrowIfNull(knownDuplicate);
        await using (var create = new NpgsqlCommand("""
            CREATE TEMP TABLE IF NOT EXISTS signature_staging (
                signature_id uuid NOT NULL, petition_id uuid NOT NULL, dedup_key bytea NOT NULL,
                name text NOT NULL, country text NOT NULL, postal_code text NULL, source text NOT NULL,
                submitted_at timestamptz NOT NULL, known_duplicate boolean NOT NULL,
                client_address inet NULL, email_domain text NULL, contact_email bytea NULL, awaiting boolean NOT NULL
            ) ON COMMIT DELETE ROWS
            """, _connection, _transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var importer = await _connection.BeginBinaryImportAsync("""
            COPY signature_staging (signature_id, petition_id, dedup_key, name, country, postal_code, source, submitted_at, known_duplicate,
                                    client_address, email_domain, contact_email, awaiting)
            FROM STDIN (FORMAT BINARY)
            """, cancellationToken);
        for (var i = 0; i < signatures.Count; i++)
        {
            var s = signatures[i];
            _petitions.Add(s.PetitionId);
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(s.SignatureId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(s.PetitionId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(s.DedupKey, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(s.Name, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(s.Country, NpgsqlDbType.Text, cancellationToken);
            await WriteOrNullAsync(importer, s.PostalCode, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(s.Source == SignatureSource.Offline ? "offline" : "online", NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(s.SubmittedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(knownDuplicate[i], NpgsqlDbType.Boolean, cancellationToken);
            await WriteOrNullAsync(importer, s.ClientAddress is { } a && IPAddress.TryParse(a, out var address) ? address : null, NpgsqlDbType.Inet, cancellationToken);
            await WriteOrNullAsync(importer, s.EmailDomain, NpgsqlDbType.Text, cancellationToken);
            await WriteOrNullAsync(importer, s.ContactEmail, NpgsqlDbType.Bytea, cancellationToken);
            await importer.WriteAsync(s.AwaitingConfirmation, NpgsqlDbType.Boolean, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    private static async Task WriteOrNullAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken) where T : class
    {
        if (value is null) await importer.WriteNullAsync(cancellationToken);
        else await importer.WriteAsync(value, type, cancellationToken);
    }

    // ON CONFLICT without a target covers both keys: the signature id (a redelivered batch) and
    // (petition, dedup key) (a signer already stored). DISTINCT ON keeps the first of in-batch repeats;
    // the fixed order keeps concurrent workers from deadlocking on the unique index. Every petition with a row
    // awaiting confirmation in the batch joins the totals upsert (a row that moves nothing: its version stays), so
    // this statement holds their totals rows, taken in the ledger's order, before the repeats move pending in the
    // next one; a batch with none awaiting (every petition that does not ask for confirmation) pays nothing for it.
    private static readonly string Merge = $"""
        WITH stored AS (
            INSERT INTO signatures (signature_id, petition_id, dedup_key, name, country, postal_code, source, submitted_at,
                                    client_address, email_domain, contact_email, awaiting_confirmation)
            SELECT DISTINCT ON (petition_id, dedup_key)
                   signature_id, petition_id, dedup_key, name, country, postal_code, source, submitted_at,
                   client_address, email_domain, contact_email, awaiting
            FROM signature_staging s
            -- Redis says "taken" only for committed signers; PostgreSQL confirms it (after a restore, say).
            WHERE (NOT known_duplicate
                   OR NOT EXISTS (SELECT 1 FROM signatures x WHERE x.petition_id = s.petition_id AND x.dedup_key = s.dedup_key))
              -- Withdrawn or erased since this batch was first stored: a redelivery must not bring it back.
              AND NOT EXISTS (SELECT 1 FROM signature_removals r WHERE r.signature_id = s.signature_id)
              -- Recorded as a repeat by a first attempt: it stays one, even if the signer it repeated has left since.
              AND NOT EXISTS (SELECT 1 FROM signature_duplicates d WHERE d.signature_id = s.signature_id)
            ORDER BY petition_id, dedup_key, submitted_at, signature_id
            ON CONFLICT DO NOTHING
            RETURNING petition_id, country, submitted_at, awaiting_confirmation AS awaiting
        ), moved AS (
            SELECT petition_id, country, submitted_at, awaiting FROM stored
            UNION ALL
            SELECT DISTINCT petition_id, NULL::text, NULL::timestamptz, NULL::boolean FROM signature_staging WHERE awaiting
        ), {TotalsLedger.Add("moved")}
        SELECT count(*) FROM stored
        """;

    // Whatever in staging is not stored under its own id repeats an earlier signer. A statement of its own, so its
    // snapshot sees the rows the merge stored and the ones a concurrent first attempt of this batch committed while
    // the merge waited on them: a redelivered row is found by its id, never mistaken for a repeat. A repeat awaiting
    // confirmation goes to pending as a first signature would, so pending does not tell the two apart; its petition's
    // totals row is already held (above: it is awaiting, so its petition was), and it moves no country, so no lock is
    // taken out of the ledger's order.
    private static readonly string Repeats = $"""
        WITH repeats AS (
            INSERT INTO signature_duplicates (signature_id, petition_id, awaiting_confirmation)
            SELECT s.signature_id, s.petition_id, s.awaiting FROM signature_staging s
            WHERE NOT EXISTS (SELECT 1 FROM signatures x WHERE x.signature_id = s.signature_id)
              AND NOT EXISTS (SELECT 1 FROM signature_removals r WHERE r.signature_id = s.signature_id)
            ON CONFLICT DO NOTHING
            RETURNING petition_id, awaiting_confirmation AS awaiting
        ), moved AS (
            SELECT petition_id, NULL::text AS country, NULL::timestamptz AS submitted_at, true AS awaiting FROM repeats WHERE awaiting
        ), {TotalsLedger.Add("moved")}
        SELECT count(*) FROM repeats
        """;

    /// <summary>Merges staging into the signatures and totals, commits, and returns the new totals.</summary>
    public async Task<BatchOutcome> CommitAsync(CancellationToken cancellationToken)
    {
        var petitions = _petitions.ToArray();
        // One round trip: the merge, the repeats, the totals read back, the stored ids, what the repeats repeat.
        await using var batch = new NpgsqlBatch(_connection, _transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(Merge));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(Repeats));
        // Absolute totals for every petition in the batch, even one this attempt added nothing to, so a
        // redelivery after a crash between commit and publish still announces them.
        foreach (var readBack in TotalsLedger.ReadBack(petitions)) batch.BatchCommands.Add(readBack);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT s.signature_id FROM signature_staging s
            WHERE EXISTS (SELECT 1 FROM signatures x WHERE x.signature_id = s.signature_id)
            """));
        // The signer of a repeat awaiting confirmation is mailed about the signature that holds their place.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT s.signature_id, x.signature_id, x.awaiting_confirmation FROM signature_staging s
            JOIN signatures x ON x.petition_id = s.petition_id AND x.dedup_key = s.dedup_key AND x.signature_id <> s.signature_id
            WHERE s.awaiting AND NOT EXISTS (SELECT 1 FROM signature_removals r WHERE r.signature_id = s.signature_id)
            """));

        int stored, duplicates;
        IReadOnlyList<PetitionTotals> totals;
        var storedIds = new HashSet<Guid>();
        var repeated = new Dictionary<Guid, RepeatedSignature>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            // Result sets: the merge's count, the repeats' count, the two of the totals, the stored ids, the repeated ones.
            await reader.ReadAsync(cancellationToken);
            stored = (int)reader.GetInt64(0);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            duplicates = (int)reader.GetInt64(0);
            await reader.NextResultAsync(cancellationToken);
            totals = await TotalsLedger.ReadBackAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) storedIds.Add(reader.GetGuid(0));
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) repeated[reader.GetGuid(0)] = new RepeatedSignature(reader.GetGuid(1), reader.GetBoolean(2));
        }

        await _transaction.CommitAsync(cancellationToken);
        return new BatchOutcome(stored, duplicates, storedIds, totals, repeated);
    }

    /// <summary>Rolls back anything not committed and returns the connection to the pool.</summary>
    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
