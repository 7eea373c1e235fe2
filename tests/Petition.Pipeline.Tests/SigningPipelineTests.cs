using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Petition.Pipeline.Tests;

/// <summary>One worker running for the whole class.</summary>
public sealed class SystemWithWorker : PetitionSystem
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartWorker();
    }
}

public sealed class SigningPipelineTests(SystemWithWorker system) : IClassFixture<SystemWithWorker>
{
    [Fact]
    public async Task Ten_thousand_concurrent_signatures_with_a_fifth_repeated_are_stored_once_each()
    {
        Guid[] petitions = [await system.CreatePetitionAsync(), await system.CreatePetitionAsync(), await system.CreatePetitionAsync()];
        var random = new Random(20261122);
        var unique = Enumerable.Range(0, 8_000).Select(i => (Petition: petitions[i % 3], Signer: Signer.Unique(i))).ToList();
        // 2,000 repeats of earlier signers, emails typed in other case and with spaces, shuffled in.
        var posts = unique.Concat(Enumerable.Range(0, 2_000).Select(_ => unique[random.Next(unique.Count)]).Select(u => (u.Petition, Signer: u.Signer.Again())))
            .OrderBy(_ => random.Next()).ToList();

        var statuses = new ConcurrentBag<HttpStatusCode>();
        await Parallel.ForEachAsync(posts, new ParallelOptions { MaxDegreeOfParallelism = 200 }, async (post, _) =>
            statuses.Add((await system.SignAsync(post.Petition, post.Signer)).StatusCode));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));
        foreach (var petition in petitions)
        {
            await PetitionSystem.AssertStoredExactlyAsync(petition, unique.Count(u => u.Petition == petition), TimeSpan.FromSeconds(120));
        }

        var duplicates = 0L;
        foreach (var petition in petitions) duplicates += (await PetitionSystem.CountsAsync(petition)).Duplicates;
        Assert.Equal(2_000, duplicates);
    }

    [Fact]
    public async Task Concurrent_posts_of_the_same_email_store_one_signature()
    {
        var petition = await system.CreatePetitionAsync();
        var signer = Signer.Unique();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => system.SignAsync(petition, i % 2 == 0 ? signer : signer.Again())));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).Duplicates == 49, TimeSpan.FromSeconds(10), "49 duplicates recorded");
    }

    [Fact]
    public async Task Status_reads_pending_then_received_and_a_repeat_reads_as_the_first_signature_does()
    {
        var petition = await system.CreatePetitionAsync();
        var signer = Signer.Unique();
        var first = await ReadAccepted(await system.SignAsync(petition, signer));
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        var second = await ReadAccepted(await system.SignAsync(petition, signer.Again()));

        Assert.Equal("pending", first.GetProperty("status").GetString());
        Assert.Equal("pending", second.GetProperty("status").GetString());
        Assert.Equal("received", await StatusOf(first));
        // Whoever signed with someone else's email must not learn from the answer that they had signed.
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).Duplicates == 1, TimeSpan.FromSeconds(30), "the repeat to be recorded");
        Assert.Equal("received", await StatusOf(second));
    }

    [Fact]
    public async Task Bulk_csv_import_stores_the_valid_rows_and_reports_the_bad_ones_by_line()
    {
        var petition = await system.CreatePetitionAsync();
        var csv = new StringBuilder("name,email,country,postalCode\n");
        for (var i = 0; i < 2_000; i++) csv.Append(CultureInvariant($"Paper Signer {i},paper-{i}-{petition:N}@example.org,GB,SW1A 1AA\n"));
        csv.Append("No Email,,GB,\n");                                   // line 2002
        csv.Append(CultureInvariant($"\"Quoted, Name\",bad-country-{petition:N}@example.org,XX,\n")); // line 2003
        csv.Append(CultureInvariant($"Repeat,PAPER-0-{petition:N}@example.org,GB,\n"));            // valid, but a repeat of line 2

        using var content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");
        var response = await system.Admin.PostAsync($"/api/petitions/{petition}/signatures/batch", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2_001, report.GetProperty("accepted").GetInt32());
        var rejected = report.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([2002, 2003], rejected.Select(r => r.GetProperty("line").GetInt32()));
        Assert.True(rejected[0].GetProperty("errors").TryGetProperty("email", out _));
        Assert.True(rejected[1].GetProperty("errors").TryGetProperty("country", out _));
        await PetitionSystem.AssertStoredExactlyAsync(petition, 2_000);
    }

    [Fact]
    public async Task Bulk_json_import_records_its_signatures_as_offline()
    {
        var petition = await system.CreatePetitionAsync();
        var rows = Enumerable.Range(0, 100).Select(i => (object)Signer.Unique(i)).Append(new { name = 42, email = "x@example.org", country = "GB" }).ToList();

        var response = await system.Admin.PostAsJsonAsync($"/api/petitions/{petition}/signatures/batch", rows);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(100, report.GetProperty("accepted").GetInt32());
        Assert.Equal(101, report.GetProperty("rejected")[0].GetProperty("row").GetInt32());
        await PetitionSystem.AssertStoredExactlyAsync(petition, 100);
        Assert.Equal(100, await Database.ScalarAsync("SELECT count(*) FROM signatures WHERE petition_id = @petition AND source = 'offline'", petition));
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    private static async Task<JsonElement> ReadAccepted(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private async Task<string?> StatusOf(JsonElement accepted)
    {
        var status = await system.Client.GetFromJsonAsync<JsonElement>(accepted.GetProperty("statusUrl").GetString());
        return status.GetProperty("status").GetString();
    }
}
