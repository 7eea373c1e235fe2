using System.Text.Json;
using Dapper;
using Xunit;

namespace Petition.Testing;

/// <summary>One line of the fault table: what a fault cost, if anything.</summary>
public sealed record FaultOutcome(string Fault, string Load, int Issued202, long Stored, long Lost, long DoubleCounted, TimeSpan Recovery);

/// <summary>
/// The end of every fault test: waits for the pipeline to drain, then compares what the load was told (202s)
/// with what PostgreSQL holds and what the counter shows, records the line for the table in docs/faults.md, and fails
/// on anything lost or counted twice.
/// </summary>
public static class FaultAudit
{
    /// <summary>Where the suite writes its table (test.sh prints it at the end of the run).</summary>
    public static string TablePath => Path.Combine(TestServers.RepoRoot, "artifacts", "faults", "faults.md");

    public static async Task<FaultOutcome> VerifyAsync(string fault, string load, Guid petition, SteadyLoad signing, TimeSpan recovery, Uri? counter)
    {
        ArgumentNullException.ThrowIfNull(signing);
        long signers = signing.Posted.Count;
        StoredCounts counts = null!;
        await PetitionSystem.WaitUntilAsync(async () => (counts = await PetitionSystem.CountsAsync(petition)).Rows >= signers && counts.Total == counts.Rows,
            TimeSpan.FromSeconds(120), $"{signers} signatures to be stored", () => counts.ToString());
        await Task.Delay(1_000); // a redelivered batch still in flight would land now
        counts = await PetitionSystem.CountsAsync(petition);

        var ids = signing.AcceptedIds.ToArray();
        await using var db = TestServers.Connect(PetitionSystem.Database);
        var (lost, both) = await db.QuerySingleAsync<IdCheck>("""
            SELECT count(*) FILTER (WHERE s.signature_id IS NULL AND d.signature_id IS NULL) AS Lost,
                   count(*) FILTER (WHERE s.signature_id IS NOT NULL AND d.signature_id IS NOT NULL) AS Both
              FROM unnest(@ids) AS a(signature_id)
              LEFT JOIN signatures s ON s.signature_id = a.signature_id
              LEFT JOIN signature_duplicates d ON d.signature_id = a.signature_id
            """, new { ids });
        // A signer the load gave up on may or may not have been stored; every other row is one accepted signer.
        var extraRows = Math.Max(0, counts.Rows - signers - signing.Unanswered);
        // Counted and awaiting rows each take one signer; pending holds the awaiting rows and the repeats awaiting.
        var doubleCounted = extraRows + both + Math.Abs(counts.Rows + counts.Awaiting - counts.DistinctSigners) + Math.Abs(counts.Total - counts.Rows)
            + Math.Abs(counts.CountrySum - counts.Rows) + Math.Abs(counts.Pending - counts.Awaiting - counts.AwaitingRepeats);

        var outcome = new FaultOutcome(fault, load, ids.Length, counts.Rows, lost, doubleCounted, recovery);
        await RecordAsync(outcome);

        Assert.Equal(0, lost);
        Assert.Equal(0, doubleCounted);
        Assert.Equal(0, counts.CountryMismatches);
        if (signing.Unanswered == 0) Assert.Equal(signers, counts.Rows);
        if (counter is not null) await AssertCounterShowsAsync(counter, petition, counts.Rows);
        return outcome;
    }

    /// <summary>The counter converges on COUNT(*) (within a second of the last commit; two allowed for a busy machine).</summary>
    public static async Task AssertCounterShowsAsync(Uri counter, Guid petition, long expected)
    {
        using var client = new HttpClient { BaseAddress = counter };
        long shown = -1;
        await PetitionSystem.WaitUntilAsync(async () =>
        {
            using var body = JsonDocument.Parse(await client.GetStringAsync($"/api/petitions/{petition}/count"));
            return (shown = body.RootElement.GetProperty("total").GetInt64()) == expected;
        }, TimeSpan.FromSeconds(2), $"the counter to show {expected}", () => $"it shows {shown}");
    }

    private sealed record IdCheck(long Lost, long Both);

    private static Task RecordAsync(FaultOutcome o) => MarkdownTable.AppendAsync(TablePath,
        ["Fault", "Load during it", "202s issued", "Stored", "Lost", "Double-counted", "Time to recover"], [false, false, true, true, true, true, true],
        [o.Fault, o.Load, $"{o.Issued202:N0}", $"{o.Stored:N0}", $"{o.Lost}", $"{o.DoubleCounted}", $"{o.Recovery.TotalSeconds:0.0} s"]);
}
