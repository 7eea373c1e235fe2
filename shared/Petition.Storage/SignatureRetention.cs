using Npgsql;

namespace Petition.Storage;

/// <summary>
/// Anonymises the signatures of petitions closed long enough ago: name, postal code, address, email domain
/// and contact email removed, and the dedup key (a keyed hash of the email) replaced by the signature's
/// own id. Country, source and time stay, so totals stand. Idempotent, so several workers may run it.
/// </summary>
public sealed class SignatureRetention(NpgsqlDataSource dataSource)
{
    private const int RowsPerStep = 10_000;

    /// <summary>Petitions closed before <paramref name="closedBefore"/> and not yet marked anonymised.</summary>
    public async Task<IReadOnlyList<Guid>> DueAsync(DateTimeOffset closedBefore, CancellationToken cancellationToken)
    {
        var petitions = new List<Guid>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var due = new NpgsqlCommand("""
            SELECT petition_id FROM petitions
            WHERE anonymised_at IS NULL AND coalesce(closed_at, closes_at) < @before
            """, connection);
        due.Parameters.AddWithValue("before", closedBefore);
        await using var reader = await due.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) petitions.Add(reader.GetGuid(0));
        return petitions;
    }

    /// <summary>Marks a petition done, once its rows and anything else holding its signers (the dedup cache) are cleared.</summary>
    public async Task MarkAnonymisedAsync(Guid petition, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var done = new NpgsqlCommand("UPDATE petitions SET anonymised_at = now() WHERE petition_id = @petition", connection);
        done.Parameters.AddWithValue("petition", petition);
        await done.ExecuteNonQueryAsync(cancellationToken);
    }

    // In steps of RowsPerStep along the (petition, dedup key) index, each its own short statement, so a
    // 10-million-row petition holds no long lock. A row's new key may sort later and be met again: skipped.
    /// <summary>Anonymises one petition's signatures; returns the rows changed.</summary>
    public async Task<long> AnonymiseAsync(Guid petition, CancellationToken cancellationToken)
    {
        long changed = 0;
        var after = Array.Empty<byte>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        for (long seen = RowsPerStep; seen == RowsPerStep;)
        {
            await using var command = new NpgsqlCommand("""
                WITH step AS (
                    SELECT signature_id, dedup_key FROM signatures
                    WHERE petition_id = @petition AND dedup_key > @after ORDER BY dedup_key LIMIT @step
                ), changed AS (
                    UPDATE signatures s SET name = '', postal_code = NULL, client_address = NULL, email_domain = NULL,
                                            contact_email = NULL, dedup_key = uuid_send(s.signature_id)
                    FROM step WHERE s.signature_id = step.signature_id AND s.dedup_key <> uuid_send(s.signature_id)
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM step), (SELECT dedup_key FROM step ORDER BY dedup_key DESC LIMIT 1), (SELECT count(*) FROM changed)
                """, connection);
            command.Parameters.AddWithValue("petition", petition);
            command.Parameters.AddWithValue("after", after);
            command.Parameters.AddWithValue("step", RowsPerStep);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            seen = reader.GetInt64(0);
            if (!reader.IsDBNull(1)) after = reader.GetFieldValue<byte[]>(1);
            changed += reader.GetInt64(2);
        }

        return changed;
    }
}
