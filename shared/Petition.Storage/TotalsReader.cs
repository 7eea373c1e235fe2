using Npgsql;
using Petition.Contracts;

namespace Petition.Storage;

/// <summary>A petition's committed totals, as the counter serves them.</summary>
public sealed record PetitionCount(
    Guid PetitionId, long Total, long Target, IReadOnlyDictionary<string, long> ByCountry, long Version, DateTimeOffset? LastSignedAt);

/// <summary>Reads committed totals: the counter's starting point and its drift check.</summary>
public sealed class TotalsReader(NpgsqlDataSource dataSource)
{
    /// <summary>Every petition's totals.</summary>
    public Task<IReadOnlyList<PetitionCount>> ReadAllAsync(CancellationToken cancellationToken) => ReadAsync(null, cancellationToken);

    /// <summary>One petition's totals, or null when there is no such petition.</summary>
    public async Task<PetitionCount?> ReadAsync(Guid petitionId, CancellationToken cancellationToken) =>
        (await ReadAsync((Guid?)petitionId, cancellationToken)).SingleOrDefault();

    private async Task<IReadOnlyList<PetitionCount>> ReadAsync(Guid? petitionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for both reads, so a petition's countries always add up to its total.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var filter = petitionId is null ? "" : "WHERE p.petition_id = @petition";
        var rows = new List<(Guid Id, long Total, long Target, long Version, DateTimeOffset? Last)>();
        await using (var totals = new NpgsqlCommand($"""
            SELECT p.petition_id, t.total, p.target, t.version, t.last_signed_at
            FROM petitions p JOIN petition_totals t USING (petition_id) {filter}
            """, connection, transaction))
        {
            if (petitionId is { } id) totals.Parameters.AddWithValue("petition", id);
            await using var reader = await totals.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }

        var byCountry = rows.ToDictionary(r => r.Id, _ => new Dictionary<string, long>(StringComparer.Ordinal));
        await using (var countries = new NpgsqlCommand(
            // A country whose every signature was withdrawn or struck out keeps a row at zero: not shown.
            $"SELECT p.petition_id, c.country, c.total FROM petition_country_totals c JOIN petitions p USING (petition_id) {filter} {(petitionId is null ? "WHERE" : "AND")} c.total <> 0",
            connection, transaction))
        {
            if (petitionId is { } id) countries.Parameters.AddWithValue("petition", id);
            await using var reader = await countries.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (byCountry.TryGetValue(reader.GetGuid(0), out var map)) map[reader.GetString(1)] = reader.GetInt64(2);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return [.. rows.Select(r => new PetitionCount(r.Id, r.Total, r.Target, byCountry[r.Id], r.Version, r.Last))];
    }

    /// <summary>Absolute totals of the given petitions, read inside the caller's transaction (after a change, before its commit).</summary>
    internal static async Task<IReadOnlyList<PetitionTotalsChanged>> ReadInAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] petitions, CancellationToken cancellationToken)
    {
        if (petitions.Length == 0) return [];
        var byCountry = petitions.ToDictionary(p => p, _ => new Dictionary<string, long>(StringComparer.Ordinal));
        await using (var countries = new NpgsqlCommand(
            "SELECT petition_id, country, total FROM petition_country_totals WHERE petition_id = ANY(@petitions) AND total <> 0", connection, transaction))
        {
            countries.Parameters.AddWithValue("petitions", petitions);
            await using var reader = await countries.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) byCountry[reader.GetGuid(0)][reader.GetString(1)] = reader.GetInt64(2);
        }

        var totals = new List<PetitionTotalsChanged>();
        await using (var command = new NpgsqlCommand(
            "SELECT petition_id, total, version, last_signed_at FROM petition_totals WHERE petition_id = ANY(@petitions)", connection, transaction))
        {
            command.Parameters.AddWithValue("petitions", petitions);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                totals.Add(new PetitionTotalsChanged
                {
                    PetitionId = reader.GetGuid(0),
                    Total = reader.GetInt64(1),
                    Version = reader.GetInt64(2),
                    LastSignedAt = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                    ByCountry = byCountry[reader.GetGuid(0)],
                });
            }
        }

        return totals;
    }
}
