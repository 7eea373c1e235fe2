using Npgsql;
using Petition.Contracts;

namespace Petition.Storage;

/// <summary>
/// A petition's committed totals: its counted signatures, those awaiting their signer's confirmation, per country
/// (counted only), and the version that grows with every change.
/// </summary>
public sealed record PetitionTotals(Guid PetitionId, long Total, long Version, DateTimeOffset? LastSignedAt, IReadOnlyDictionary<string, long> ByCountry, long Pending)
{
    /// <summary>The event every writer publishes after its commit (the worker's batches, the admin changes).</summary>
    public PetitionTotalsChanged ToChangedEvent() => new()
    {
        PetitionId = PetitionId, Total = Total, Pending = Pending, ByCountry = ByCountry, Version = Version, LastSignedAt = LastSignedAt,
    };
}

/// <summary>
/// The one place totals move and are read back, for every writer: the worker's batches and the admin changes.
/// Totals move by exactly the rows that started or stopped counting (or awaiting confirmation), in the same
/// transaction as those rows, so total stays equal to COUNT(*) of counted signatures (valid, not awaiting) and
/// pending to COUNT(*) of valid ones awaiting plus the repeats awaiting. Every writer moves them through these same two upserts, each taking
/// its rows in (petition, country) order, so concurrent writers lock totals rows in one order and wait for each
/// other rather than deadlock. The upserts are CTEs that join the writer's own statement: moving the totals costs
/// no round trip.
/// </summary>
internal static class TotalsLedger
{
    /// <summary>
    /// CTEs by_country and by_petition adding the rows of CTE <paramref name="rows"/> (petition_id, country, submitted_at,
    /// awaiting): to total, or to pending when awaiting. A row whose awaiting is NULL adds nothing; it only makes the
    /// upsert take its petition's totals row (in order), leaving its version as it was unless something moved.
    /// </summary>
    public static string Add(string rows) =>
        Move(rows, "count(*) FILTER (WHERE NOT awaiting)", "count(*) FILTER (WHERE awaiting)", "count(*)", "NOT awaiting", "max(submitted_at) FILTER (WHERE NOT awaiting)");

    /// <summary>CTEs by_country and by_petition taking away the rows of CTE <paramref name="rows"/> (petition_id, country, awaiting).</summary>
    public static string Subtract(string rows) =>
        Move(rows, "-count(*) FILTER (WHERE NOT awaiting)", "-count(*) FILTER (WHERE awaiting)", "-count(*)", "NOT awaiting", "NULL::timestamptz");

    /// <summary>
    /// CTEs by_country and by_petition moving the rows of CTE <paramref name="rows"/> (petition_id, country, submitted_at),
    /// each just confirmed by its signer, from pending to total.
    /// </summary>
    public static string Confirm(string rows) => Move(rows, "count(*)", "-count(*)", "count(*)", "true", "max(submitted_at)");

    // Upserts: a missing totals row is created. Nothing reads them, so PostgreSQL runs them after the writer's main
    // query, in reverse order of declaration: the petition rows are locked, then the country rows, by every writer alike.
    // Countries count counted signatures only. greatest() ignores a NULL: taking signatures away, or adding only
    // awaiting ones, leaves last_signed_at as it was.
    private static string Move(string rows, string total, string pending, string country, string countryRows, string lastSignedAt) => $"""
        by_country AS (
            INSERT INTO petition_country_totals AS t (petition_id, country, total)
            SELECT petition_id, country, {country} FROM {rows} WHERE {countryRows}
            GROUP BY petition_id, country ORDER BY petition_id, country
            ON CONFLICT (petition_id, country) DO UPDATE SET total = t.total + excluded.total
        ), by_petition AS (
            INSERT INTO petition_totals AS t (petition_id, total, pending, version, last_signed_at)
            SELECT petition_id, {total}, {pending}, 1, {lastSignedAt} FROM {rows} GROUP BY petition_id ORDER BY petition_id
            ON CONFLICT (petition_id) DO UPDATE SET total = t.total + excluded.total, pending = t.pending + excluded.pending,
                version = t.version + (CASE WHEN excluded.total <> 0 OR excluded.pending <> 0 THEN 1 ELSE 0 END),
                last_signed_at = greatest(t.last_signed_at, excluded.last_signed_at)
        )
        """;

    /// <summary>
    /// The two statements reading back the absolute totals of <paramref name="petitions"/>, for the writer's batch:
    /// their result sets are read by <see cref="ReadBackAsync"/>.
    /// </summary>
    public static IEnumerable<NpgsqlBatchCommand> ReadBack(Guid[] petitions)
    {
        yield return new NpgsqlBatchCommand(
            "SELECT petition_id, total, version, last_signed_at, pending FROM petition_totals WHERE petition_id = ANY(@petitions)")
        { Parameters = { new NpgsqlParameter("petitions", petitions) } };
        // A country whose every signature was withdrawn or struck out keeps a row at zero: not shown.
        yield return new NpgsqlBatchCommand(
            "SELECT petition_id, country, total FROM petition_country_totals WHERE petition_id = ANY(@petitions) AND total <> 0")
        { Parameters = { new NpgsqlParameter("petitions", petitions) } };
    }

    /// <summary>
    /// Reads the result sets of <see cref="ReadBack"/>: <paramref name="reader"/> stands at the first, and is left at
    /// the end of the second.
    /// </summary>
    public static async Task<IReadOnlyList<PetitionTotals>> ReadBackAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var totals = new List<PetitionTotals>();
        var byCountry = new Dictionary<Guid, Dictionary<string, long>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var countries = new Dictionary<string, long>(StringComparer.Ordinal);
            byCountry[reader.GetGuid(0)] = countries;
            totals.Add(new PetitionTotals(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), countries, reader.GetInt64(4)));
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (byCountry.TryGetValue(reader.GetGuid(0), out var countries)) countries[reader.GetString(1)] = reader.GetInt64(2);
        }

        return totals;
    }

    /// <summary>The absolute totals of <paramref name="petitions"/>, read in one round trip inside the caller's transaction.</summary>
    public static async Task<IReadOnlyList<PetitionTotals>> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] petitions, CancellationToken cancellationToken)
    {
        if (petitions.Length == 0) return [];
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var command in ReadBack(petitions)) batch.BatchCommands.Add(command);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadBackAsync(reader, cancellationToken);
    }
}
