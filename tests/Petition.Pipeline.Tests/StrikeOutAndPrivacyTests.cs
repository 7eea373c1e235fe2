using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace Petition.Pipeline.Tests;

public sealed class StrikeOutAndPrivacyTests(SystemWithCounter system) : IClassFixture<SystemWithCounter>
{
    [Fact]
    public async Task Struck_out_signatures_stay_stored_but_stop_counting_totals_are_pushed_and_the_strike_out_is_audited()
    {
        var petition = await system.CreatePetitionAsync();
        var throwaway = $"throwaway-{Guid.NewGuid():N}.example";
        var signers = new List<(Signer Signer, string Visitor)>();
        for (var i = 0; i < 10; i++) signers.Add((Signer.Unique(i), $"203.0.113.{i}"));
        for (var i = 0; i < 10; i++) signers.Add((Signer.Unique(i), $"198.51.100.{i}"));
        for (var i = 0; i < 5; i++) signers.Add((Signer.Unique(i) with { Email = $"bot{i}-{Guid.NewGuid():N}@{throwaway}" }, $"198.51.100.{50 + i}"));
        foreach (var (signer, visitor) in signers) await system.SignForAsync(petition, signer, visitor);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 25);
        await system.CounterShowsAsync(petition, 25);

        var byDomain = await InvalidateAsync(petition, new { emailDomain = throwaway.ToUpperInvariant() });
        Assert.Equal((5, 20), (byDomain.GetProperty("invalidated").GetInt64(), byDomain.GetProperty("total").GetInt64()));
        await system.CounterShowsAsync(petition, 20);
        var byRange = await InvalidateAsync(petition, new { addressRange = "203.0.113.0/24", to = DateTimeOffset.UtcNow.AddMinutes(1) });
        Assert.Equal((10, 10), (byRange.GetProperty("invalidated").GetInt64(), byRange.GetProperty("total").GetInt64()));
        await system.CounterShowsAsync(petition, 10);
        // The same strike-out again finds nothing left to strike.
        Assert.Equal(0, (await InvalidateAsync(petition, new { emailDomain = throwaway })).GetProperty("invalidated").GetInt64());

        // A struck-out signer signing again is a repeat, not a new signature.
        await system.SignForAsync(petition, signers[0].Signer.Again(), "192.0.2.1");
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).Duplicates == 1, TimeSpan.FromSeconds(10), "the repeat recorded");

        var counts = await PetitionSystem.CountsAsync(petition);
        Assert.Equal((10L, 10L, 10L, 0L, 15L), (counts.Rows, counts.Total, counts.CountrySum, counts.CountryMismatches, counts.Invalidated));
        var audit = (await system.Admin.GetFromJsonAsync<JsonElement>("/api/admin/audit?limit=1000")).EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "invalidation" && e.GetProperty("petitionId").GetString() == petition.ToString()).ToList();
        Assert.Equal(3, audit.Count);
        Assert.Contains(audit, e => e.GetProperty("affected").GetInt64() == 10 && e.GetProperty("details").GetProperty("AddressRange").GetString() == "203.0.113.0/24");
        Assert.All(audit, e => Assert.Equal("configured admin key", e.GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task Strike_outs_while_batches_keep_committing_leave_totals_equal_to_the_valid_rows()
    {
        var petition = await system.CreatePetitionAsync();
        var signing = Parallel.ForEachAsync(Enumerable.Range(0, 600), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await system.SignForAsync(petition, Signer.Unique(i), i % 2 == 0 ? $"203.0.113.{i % 250}" : $"198.51.100.{i % 250}"));
        var strikeOuts = 0;
        while (!signing.IsCompleted)
        {
            await InvalidateAsync(petition, new { addressRange = "203.0.113.0/24" });
            strikeOuts++;
            await Task.Delay(100);
        }

        await signing;
        StoredCounts counts = null!;
        await PetitionSystem.WaitUntilAsync(async () => (counts = await PetitionSystem.CountsAsync(petition)).Rows + counts.Invalidated == 600,
            TimeSpan.FromSeconds(60), "all 600 stored", () => counts.ToString());
        counts = await PetitionSystem.CountsAsync(petition);
        Assert.True(strikeOuts >= 2, $"only {strikeOuts} strike-outs ran during the signing");
        Assert.Equal((counts.Rows, counts.Rows, 0L), (counts.Total, counts.CountrySum, counts.CountryMismatches));
        await system.CounterShowsAsync(petition, counts.Rows);

        // What was signed after the last one is struck out by one more; then exactly the other half counts.
        await InvalidateAsync(petition, new { addressRange = "203.0.113.0/24" });
        await PetitionSystem.AssertStoredExactlyAsync(petition, 300);
        await system.CounterShowsAsync(petition, 300);
    }

    [Fact]
    public async Task A_signer_withdraws_with_the_token_from_signing_and_the_total_drops_exactly()
    {
        var petition = await system.CreatePetitionAsync();
        var signer = Signer.Unique();
        var accepted = await system.SignForAsync(petition, signer, "192.0.2.10");
        await system.SignForAsync(petition, Signer.Unique(1), "192.0.2.11");
        await PetitionSystem.AssertStoredExactlyAsync(petition, 2);
        await system.CounterShowsAsync(petition, 2);
        var id = accepted.GetProperty("signatureId").GetGuid();
        var token = accepted.GetProperty("withdrawalToken").GetString()!;

        Assert.Equal(HttpStatusCode.Forbidden, (await WithdrawAsync(id, (token[0] == 'A' ? 'B' : 'A') + token[1..])).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await WithdrawAsync(Guid.NewGuid(), token)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await WithdrawAsync(id, "not a token!")).StatusCode);
        await PetitionSystem.WaitUntilAsync(async () => await RedisAsync("HLEN", petition) == "2", TimeSpan.FromSeconds(10), "both signers in the dedup cache");
        Assert.Equal(HttpStatusCode.NoContent, (await WithdrawAsync(id, token)).StatusCode);
        await system.CounterShowsAsync(petition, 1);
        // Nothing outside PostgreSQL ties the withdrawn signer to the petition any more.
        await PetitionSystem.WaitUntilAsync(async () => await RedisAsync("HLEN", petition) == "1", TimeSpan.FromSeconds(10), "the signer dropped from the dedup cache");
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        Assert.Equal(HttpStatusCode.NotFound, (await WithdrawAsync(id, token)).StatusCode);

        // Changing their mind again, the signer can sign anew (Redis still remembers them; PostgreSQL decides).
        await system.SignForAsync(petition, signer.Again(), "192.0.2.10");
        await PetitionSystem.AssertStoredExactlyAsync(petition, 2);
        await system.CounterShowsAsync(petition, 2);
    }

    [Fact]
    public async Task Erasure_by_email_removes_the_signer_from_every_petition_and_the_audit_keeps_no_email()
    {
        var (first, second) = (await system.CreatePetitionAsync(), await system.CreatePetitionAsync());
        var signer = Signer.Unique();
        foreach (var petition in new[] { first, second })
        {
            await system.SignForAsync(petition, signer, "192.0.2.20");
            await system.SignForAsync(petition, Signer.Unique(2), "192.0.2.21");
            await PetitionSystem.AssertStoredExactlyAsync(petition, 2);
        }

        using var response = await system.Admin.PostAsJsonAsync("/api/admin/erasures", new { email = signer.Email.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("erased").GetInt64());
        foreach (var petition in new[] { first, second })
        {
            await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
            await system.CounterShowsAsync(petition, 1);
        }

        var audit = await system.Admin.GetStringAsync("/api/admin/audit?limit=1000");
        Assert.Contains("erasure", audit, StringComparison.Ordinal);
        Assert.DoesNotContain(signer.Email.Split('@')[0], audit, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_consenting_signers_emails_are_kept_encrypted_and_exported_and_exports_cannot_carry_formulas()
    {
        var petition = await system.CreatePetitionAsync();
        var consenting = $"=cmd-{Guid.NewGuid():N}@example.org";
        var silent = $"silent-{Guid.NewGuid():N}@example.org";
        await system.SignForAsync(petition, new { name = "Ada Lovelace", email = consenting, country = "GB", contactConsent = true }, "192.0.2.30");
        await system.SignForAsync(petition, new { name = "Grace, \"Amazing\" Hopper", email = silent, country = "US", contactConsent = false }, "192.0.2.31");
        await PetitionSystem.AssertStoredExactlyAsync(petition, 2);

        // A name that would be a formula is refused at the door.
        using var formula = await system.Client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", Signer.Unique() with { Name = "=HYPERLINK(\"http://x\")" });
        Assert.Equal(HttpStatusCode.BadRequest, formula.StatusCode);

        await using (var connection = TestServers.Connect(PetitionSystem.Database))
        {
            var stored = (await connection.QueryAsync<byte[]?>("SELECT contact_email FROM signatures WHERE petition_id = @petition", new { petition })).ToList();
            Assert.Single(stored, e => e is not null);
            Assert.DoesNotContain("cmd-", Encoding.UTF8.GetString(stored.Single(e => e is not null)!), StringComparison.Ordinal);
        }

        var contacts = await system.Admin.GetStringAsync($"/api/admin/petitions/{petition}/contacts.csv");
        Assert.Equal($"name,email,country\r\nAda Lovelace,'{consenting},GB\r\n", contacts);
        var all = await system.Admin.GetStringAsync($"/api/admin/petitions/{petition}/signatures.csv");
        Assert.Contains("\"Grace, \"\"Amazing\"\" Hopper\",US", all, StringComparison.Ordinal);
        Assert.DoesNotContain("@", all, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.Client.GetAsync($"/api/admin/petitions/{petition}/contacts.csv")).StatusCode);
    }

    [Fact]
    public async Task Retention_anonymises_petitions_closed_long_ago_and_totals_stand()
    {
        var (old, recent) = (await system.CreatePetitionAsync(), await system.CreatePetitionAsync());
        foreach (var petition in new[] { old, recent })
        {
            for (var i = 0; i < 3; i++)
                await system.SignForAsync(petition, new { name = $"Signer {i}", email = $"s{i}-{Guid.NewGuid():N}@example.org", country = "KR", postalCode = "04524", contactConsent = true }, $"192.0.2.{40 + i}");
            await PetitionSystem.AssertStoredExactlyAsync(petition, 3);
            Assert.Equal(HttpStatusCode.OK, (await system.Admin.PostAsync($"/api/petitions/{petition}/close", null)).StatusCode);
        }

        await using var connection = TestServers.Connect(PetitionSystem.Database);
        await connection.ExecuteAsync("UPDATE petitions SET closed_at = now() - interval '31 days' WHERE petition_id = @old", new { old });
        // 25,000 more rows (and their totals), so anonymisation goes through several steps of 10,000.
        await connection.ExecuteAsync("""
            INSERT INTO signatures (signature_id, petition_id, dedup_key, name, country, postal_code, source, submitted_at, client_address, email_domain)
            SELECT gen_random_uuid(), @old, sha256(convert_to(i::text || @old::text, 'UTF8')), 'Paper signer ' || i, 'KR', '04524', 'offline', now(), '192.0.2.99', 'example.org'
            FROM generate_series(1, 25000) i;
            UPDATE petition_totals SET total = total + 25000, version = version + 1 WHERE petition_id = @old;
            UPDATE petition_country_totals SET total = total + 25000 WHERE petition_id = @old AND country = 'KR';
            """, new { old });
        Assert.Equal("1", await RedisAsync("EXISTS", old));
        // A worker whose job runs every second and anonymises after 30 days.
        system.StartWorker(new Dictionary<string, string> { ["Retention:AnonymiseAfterDays"] = "30", ["Retention:Interval"] = "00:00:01" });
        await PetitionSystem.WaitUntilAsync(async () => await connection.QuerySingleAsync<bool>(
            "SELECT anonymised_at IS NOT NULL FROM petitions WHERE petition_id = @old", new { old }), TimeSpan.FromSeconds(30), "the old petition anonymised");

        const string Personal = """
            SELECT count(*) FROM signatures WHERE petition_id = @petition
              AND (name <> '' OR postal_code IS NOT NULL OR client_address IS NOT NULL OR email_domain IS NOT NULL
                   OR contact_email IS NOT NULL OR dedup_key <> uuid_send(signature_id))
            """;
        Assert.Equal(0, await connection.QuerySingleAsync<long>(Personal, new { petition = old }));
        Assert.Equal(3, await connection.QuerySingleAsync<long>(Personal, new { petition = recent }));
        Assert.Equal(25_003, await connection.QuerySingleAsync<long>("SELECT count(*) FROM signatures WHERE petition_id = @old AND country = 'KR'", new { old }));
        await PetitionSystem.AssertStoredExactlyAsync(old, 25_003);
        Assert.Equal("0", await RedisAsync("EXISTS", old));
        Assert.Equal(HttpStatusCode.OK, (await system.CounterClient.GetAsync($"/api/petitions/{old}/count")).StatusCode);
    }

    // The dedup cache's hash of a petition, read with redis-cli (installed with the server).
    private static async Task<string> RedisAsync(string command, Guid petition)
    {
        var parts = TestServers.Redis.Split(',');
        var port = parts[0].Split(':')[1];
        var password = parts.First(p => p.StartsWith("password=", StringComparison.Ordinal))["password=".Length..];
        var start = new System.Diagnostics.ProcessStartInfo("redis-cli", ["-h", "127.0.0.1", "-p", port, "--no-auth-warning", "-a", password, command, $"petition:{petition:N}:signers"])
        {
            RedirectStandardOutput = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }

    private async Task<JsonElement> InvalidateAsync(Guid petition, object criteria)
    {
        using var response = await system.Admin.PostAsJsonAsync($"/api/admin/petitions/{petition}/invalidations", criteria);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<HttpResponseMessage> WithdrawAsync(Guid signature, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/signatures/{signature}");
        request.Headers.Add("X-Withdrawal-Token", token);
        return await system.Client.SendAsync(request);
    }
}
