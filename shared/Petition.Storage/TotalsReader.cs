using Npgsql;

namespace Petition.Storage;

/// <summary>How far a petition has come: its committed totals and the target they are measured against.</summary>
public sealed record PetitionProgress(long Target, PetitionTotals Totals);

/// <summary>Reads committed totals outside any change: the counter's starting point and its drift check.</summary>
public sealed class TotalsReader(NpgsqlDataSource dataSource)
{
    /// <summary>Every petition's totals.</summary>
    public Task<IReadOnlyList<PetitionProgress>> ReadAllAsync(CancellationToken cancellationToken) => ReadAsync(null, cancellationToken);

    /// <summary>One petition's totals, or null when there is no such petition.</summary>
    public async Task<PetitionProgress?> ReadAsync(Guid petitionId, CancellationToken cancellationToken) =>
        (await ReadAsync((Guid?)petitionId, cancellationToken)).SingleOrDefault();

    private async Task<IReadOnlyList<PetitionProgress>> ReadAsync(Guid? petitionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for every read, so a petition's countries always add up to its total.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var targets = new Dictionary<Guid, long>();
        await using (var command = new NpgsqlCommand(
            $"SELECT petition_id, target FROM petitions {(petitionId is null ? "" : "WHERE petition_id = @petition")}", connection, transaction))
        {
            if (petitionId is { } id) command.Parameters.AddWithValue("petition", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) targets[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        var totals = await TotalsLedger.ReadAsync(connection, transaction, [.. targets.Keys], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return [.. totals.Select(t => new PetitionProgress(targets[t.PetitionId], t))];
    }
}
