using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Petition.LoadTests.Verification;

/// <summary>What a scenario expects one petition to end with.</summary>
/// <param name="UniqueAccepted">Signers with at least one 202.</param>
/// <param name="UniqueUnsure">Further signers whose only attempts ended without an answer (a timeout, a dropped
/// connection): each may or may not have been stored.</param>
internal sealed record Expectation(Guid Petition, long UniqueAccepted, long UniqueUnsure = 0);

/// <summary>The end-of-run verdict.</summary>
internal sealed record Verdict(bool Passed, long Expected, long Stored, long CounterTotal, long Missing202s, TimeSpan Drain, IReadOnlyList<string> Findings);

/// <summary>
/// Waits for the pipeline to drain, then checks against PostgreSQL and the counter that nothing accepted
/// was lost and nothing was counted twice: rows equal the unique accepted signers; every 202'd signature
/// id is stored, as a signature or a recorded duplicate, never both; the totals (overall, per country, and
/// the counter's) equal COUNT(*).
/// </summary>
internal static class PipelineVerifier
{
    public static async Task<Verdict> VerifyAsync(
        string postgres, HttpClient counterHttp, Uri counter, IReadOnlyList<Expectation> petitions, IReadOnlyCollection<Guid> acceptedIds,
        TimeSpan timeout, TextWriter log, Action? drained = null)
    {
        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        var ids = petitions.Select(p => p.Petition).ToArray();
        var expected = petitions.Sum(p => p.UniqueAccepted);
        var drain = Stopwatch.StartNew();

        // Drained: every petition has at least what was accepted, nothing moved for a second, and the
        // counter agrees with PostgreSQL.
        long last = -1;
        var stableSince = Stopwatch.GetTimestamp();
        var nextLog = TimeSpan.FromSeconds(5);
        while (true)
        {
            var totals = await StoredTotalsAsync(db, ids);
            var stored = totals.Values.Sum();
            var behind = petitions.Count(p => totals.GetValueOrDefault(p.Petition) < p.UniqueAccepted);
            if (stored != last) { last = stored; stableSince = Stopwatch.GetTimestamp(); }
            var settled = behind == 0 && Stopwatch.GetElapsedTime(stableSince) > TimeSpan.FromSeconds(1);
            if (settled && await CounterAgreesAsync(totals, counterHttp, counter)) break;
            if (drain.Elapsed > timeout) break;
            if (drain.Elapsed > nextLog)
            {
                log.WriteLine($"[drain] {stored:N0} of {expected:N0} stored after {drain.Elapsed.TotalSeconds:F0} s");
                nextLog += TimeSpan.FromSeconds(5);
            }

            await Task.Delay(250);
        }

        drain.Stop();
        drained?.Invoke(); // what the run cost is read here, before the checks below add their own load
        var findings = new List<string>();
        long storedRows = 0, counterTotal = 0;
        foreach (var petition in petitions)
        {
            var rows = await CheckPetitionAsync(db, petition, findings);
            storedRows += rows;
            var counted = await CounterTotalAsync(counterHttp, counter, petition.Petition);
            counterTotal += counted;
            if (counted != rows) findings.Add($"petition {petition.Petition}: the counter shows {counted}, COUNT(*) is {rows}");
        }

        var (missing, both) = await CheckAcceptedIdsAsync(db, acceptedIds);
        var unreadable = acceptedIds.Count(id => id == Guid.Empty);
        if (unreadable > 0) findings.Add($"{unreadable} answers 202 carried no readable signature id");
        if (acceptedIds.Distinct().Count() != acceptedIds.Count) findings.Add("the same signature id was answered 202 twice");
        if (missing > 0) findings.Add($"{missing} signatures answered 202 are neither stored nor recorded as duplicates (lost)");
        if (both > 0) findings.Add($"{both} signatures are stored and also recorded as duplicates");
        if (drain.Elapsed > timeout) findings.Add($"the pipeline did not drain within {timeout.TotalSeconds:F0} s");
        return new Verdict(findings.Count == 0, expected, storedRows, counterTotal, missing, drain.Elapsed, findings);
    }

    private static async Task<Dictionary<Guid, long>> StoredTotalsAsync(NpgsqlConnection db, Guid[] ids)
    {
        await using var command = new NpgsqlCommand("SELECT petition_id, total FROM petition_totals WHERE petition_id = ANY(@ids)", db);
        command.Parameters.AddWithValue("ids", ids);
        var totals = new Dictionary<Guid, long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) totals[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        foreach (var id in ids) totals.TryAdd(id, 0);
        return totals;
    }

    private static async Task<bool> CounterAgreesAsync(Dictionary<Guid, long> totals, HttpClient http, Uri counter)
    {
        foreach (var (id, total) in totals)
        {
            if (total != await CounterTotalAsync(http, counter, id)) return false;
        }

        return true;
    }

    private static async Task<long> CounterTotalAsync(HttpClient http, Uri counter, Guid petition)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(counter, $"/api/petitions/{petition}/count"));
            if (!response.IsSuccessStatusCode) return -1;
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return body.RootElement.GetProperty("total").GetInt64();
        }
        catch (HttpRequestException)
        {
            return -1;
        }
    }

    private static async Task<long> CheckPetitionAsync(NpgsqlConnection db, Expectation petition, List<string> findings)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM signatures WHERE petition_id = @id),
                   (SELECT coalesce(max(total), 0) FROM petition_totals WHERE petition_id = @id),
                   (SELECT coalesce(sum(total), 0)::bigint FROM petition_country_totals WHERE petition_id = @id),
                   (SELECT count(*) FROM signatures WHERE petition_id = @id AND invalidated_by IS NULL AND NOT awaiting_confirmation),
                   (SELECT count(*) FROM signatures WHERE petition_id = @id AND invalidated_by IS NULL AND awaiting_confirmation)
                 + (SELECT count(*) FROM signature_duplicates WHERE petition_id = @id AND awaiting_confirmation),
                   (SELECT coalesce(max(pending), 0) FROM petition_totals WHERE petition_id = @id)
            """, db);
        command.Parameters.AddWithValue("id", petition.Petition);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        // One row per signer is the table's own unique constraint; what is checked here is everything around it.
        var (rows, total, byCountry) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        // The totals count counted signatures (valid, confirmed); pending, those awaiting confirmation and their repeats.
        var (counted, awaiting, pending) = (reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
        var p = petition.Petition;
        if (rows < petition.UniqueAccepted) findings.Add($"petition {p}: {rows} stored, but {petition.UniqueAccepted} unique signers were accepted");
        if (rows > petition.UniqueAccepted + petition.UniqueUnsure)
            findings.Add($"petition {p}: {rows} stored, more than the {petition.UniqueAccepted} accepted and {petition.UniqueUnsure} unanswered signers");
        if (total != counted) findings.Add($"petition {p}: total {total}, COUNT(*) of counted signatures {counted}");
        if (byCountry != counted) findings.Add($"petition {p}: per-country totals add up to {byCountry}, COUNT(*) of counted signatures {counted}");
        if (pending != awaiting) findings.Add($"petition {p}: pending {pending}, COUNT(*) of signatures and repeats awaiting confirmation {awaiting}");
        return rows;
    }

    private static async Task<(long Missing, long Both)> CheckAcceptedIdsAsync(NpgsqlConnection db, IReadOnlyCollection<Guid> acceptedIds)
    {
        if (acceptedIds.Count == 0) return (0, 0);
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE accepted (signature_id uuid NOT NULL) ON COMMIT PRESERVE ROWS", db))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var import = await db.BeginBinaryImportAsync("COPY accepted (signature_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var id in acceptedIds)
            {
                await import.StartRowAsync();
                await import.WriteAsync(id, NpgsqlDbType.Uuid);
            }

            await import.CompleteAsync();
        }

        await using var check = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE s.signature_id IS NULL AND d.signature_id IS NULL),
                   count(*) FILTER (WHERE s.signature_id IS NOT NULL AND d.signature_id IS NOT NULL)
            FROM accepted a
            LEFT JOIN signatures s ON s.signature_id = a.signature_id
            LEFT JOIN signature_duplicates d ON d.signature_id = a.signature_id
            """, db);
        await using var reader = await check.ExecuteReaderAsync();
        await reader.ReadAsync();
        var result = (reader.GetInt64(0), reader.GetInt64(1));
        await reader.DisposeAsync();
        await using var drop = new NpgsqlCommand("DROP TABLE accepted", db);
        await drop.ExecuteNonQueryAsync();
        return result;
    }
}
