using Npgsql;

namespace Petition.Storage;

/// <summary>What one confirmation write did: how many signatures started counting, and the new totals of their petitions.</summary>
public sealed record ConfirmationOutcome(int Confirmed, IReadOnlyList<PetitionTotals> Totals);

/// <summary>
/// Signers' confirmations, many in one transaction: each signature still awaiting (and not struck out) starts
/// counting, and the totals move from pending to total in the same statement (<see cref="TotalsLedger"/>). A
/// signature already confirmed, struck out, withdrawn or never stored is left alone, so a confirmation given twice
/// or redelivered changes nothing: single use is the rows' state, not a record of tokens.
/// </summary>
public sealed class SignatureConfirmations(NpgsqlDataSource dataSource)
{
    // Rows are locked in id order first, so two writes confirming overlapping ids (a redelivery beside its
    // original) wait for each other rather than deadlock; the totals are then locked in the ledger's one order.
    private static readonly string Confirm = $$"""
        WITH target AS (
            SELECT signature_id FROM signatures
            WHERE signature_id = ANY(@ids) AND awaiting_confirmation AND invalidated_by IS NULL
            ORDER BY signature_id FOR UPDATE
        ), confirmed AS (
            UPDATE signatures s SET awaiting_confirmation = false FROM target t
            WHERE s.signature_id = t.signature_id
            RETURNING s.petition_id, s.country, s.submitted_at
        ), {{TotalsLedger.Confirm("confirmed")}}
        SELECT (SELECT coalesce(array_agg(DISTINCT petition_id), '{}') FROM confirmed), (SELECT count(*) FROM confirmed)
        """;

    /// <summary>Confirms <paramref name="signatureIds"/> (those still awaiting) and returns the totals of the petitions that moved.</summary>
    public async Task<ConfirmationOutcome> ConfirmAsync(IReadOnlyCollection<Guid> signatureIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signatureIds);
        if (signatureIds.Count == 0) return new ConfirmationOutcome(0, []);
        // A strike-out or an erasure locks rows in its own scan order, so one may meet this in a deadlock that
        // PostgreSQL breaks by aborting one side: retried, as the admin side is.
        var ids = signatureIds.ToArray();
        return await ConflictRetry.RunAsync(() => ConfirmOnceAsync(ids, cancellationToken), cancellationToken);
    }

    private async Task<ConfirmationOutcome> ConfirmOnceAsync(Guid[] signatureIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid[] petitions;
        long confirmed;
        await using (var command = new NpgsqlCommand(Confirm, connection, transaction))
        {
            command.Parameters.AddWithValue("ids", signatureIds);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            petitions = reader.GetFieldValue<Guid[]>(0);
            confirmed = reader.GetInt64(1);
        }

        var totals = await TotalsLedger.ReadAsync(connection, transaction, petitions, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ConfirmationOutcome((int)confirmed, totals);
    }

    /// <summary>The relay refused the signer's address for good: the signature cannot be confirmed (it expires as any unconfirmed one).</summary>
    public async Task MarkUndeliverableAsync(Guid signatureId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE signatures SET mail_undeliverable_at = coalesce(mail_undeliverable_at, now()) WHERE signature_id = @id AND awaiting_confirmation");
        command.Parameters.AddWithValue("id", signatureId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
