using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;

namespace Petition.Intake.Tests;

/// <summary>
/// Partner and admin keys issued through the admin API, and the block list, on a real intake process with
/// the rate limits on (the client address is the socket's: 127.0.0.1).
/// </summary>
public sealed class AccessTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    [Fact]
    public async Task A_partner_key_signs_for_many_visitors_past_the_per_address_limit_each_visitor_still_limited()
    {
        var petition = await system.CreatePetitionAsync();
        using var intake = await StartAsync();
        var key = await CreateKeyAsync(intake, "partner", perMinute: 1000);

        // Twelve visitors of the campaign site, all posted from its one server address.
        for (var i = 0; i < 12; i++) Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, key, $"203.0.113.{i}")).StatusCode);
        // Without the key, that one address is held to the burst of 2.
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignAsync(intake, petition)).StatusCode);
        // One visitor is still one visitor.
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, key, "198.51.100.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, key, "198.51.100.1")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SignAsync(intake, petition, key, "198.51.100.1")).StatusCode);
    }

    [Fact]
    public async Task A_partner_has_its_own_quota_over_all_its_visitors()
    {
        var petition = await system.CreatePetitionAsync();
        using var intake = await StartAsync();
        var key = await CreateKeyAsync(intake, "partner", perMinute: 3);

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, key, $"203.0.113.{i}")).StatusCode);
        using var refused = await SignAsync(intake, petition, key, "203.0.113.99");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_and_keys_are_stored_only_as_hashes()
    {
        var petition = await system.CreatePetitionAsync();
        using var intake = await StartAsync();
        var key = await CreateKeyAsync(intake, "partner");
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, key, "203.0.113.1")).StatusCode);

        // pk_<id>_<secret>: the secret is base64url, which may itself hold '_'.
        var parts = key.Split('_', 3);
        var keyId = Guid.ParseExact(parts[1], "N");
        var secret = parts[2];
        var listed = await (await Admin(intake).GetAsync("/api/admin/keys")).Content.ReadAsStringAsync();
        Assert.Contains(keyId.ToString(), listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        await using (var connection = TestServers.Connect(PetitionSystem.Database))
        {
            var stored = await connection.QuerySingleAsync<byte[]>("SELECT secret_hash FROM api_keys WHERE key_id = @keyId", new { keyId });
            Assert.Equal(32, stored.Length);
            Assert.DoesNotContain(secret, Convert.ToBase64String(stored), StringComparison.Ordinal);
        }

        // A wrong secret under the live key's id is refused.
        var secretStart = key.Length - secret.Length;
        var wrongSecret = key[..secretStart] + (key[secretStart] == 'A' ? 'B' : 'A') + key[(secretStart + 1)..];
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignAsync(intake, petition, wrongSecret, "203.0.113.3")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin(intake).DeleteAsync($"/api/admin/keys/{keyId}")).StatusCode);
        using var refused = await SignAsync(intake, petition, key, "203.0.113.2");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Scopes_keep_partners_out_of_the_admin_api_and_let_issued_admin_keys_in()
    {
        using var intake = await StartAsync();
        var partner = await CreateKeyAsync(intake, "partner");
        var admin = await CreateKeyAsync(intake, "admin");

        using var asPartner = new HttpClient { BaseAddress = intake.BaseAddress };
        asPartner.DefaultRequestHeaders.Add("X-Api-Key", partner);
        Assert.Equal(HttpStatusCode.Forbidden, (await asPartner.GetAsync("/api/admin/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asPartner.PostAsJsonAsync("/api/petitions", new { title = "x", target = 5 })).StatusCode);

        using var asAdmin = new HttpClient { BaseAddress = intake.BaseAddress };
        asAdmin.DefaultRequestHeaders.Add("X-Api-Key", admin);
        Assert.Equal(HttpStatusCode.Created, (await asAdmin.PostAsJsonAsync("/api/petitions", new { title = "By an issued key", target = 5 })).StatusCode);
        var audit = await (await asAdmin.GetAsync("/api/admin/audit?limit=1000")).Content.ReadAsStringAsync();
        Assert.Contains("key-created", audit, StringComparison.Ordinal);

        // A partner that forgets the visitor's address is told so.
        using var missing = await SignAsync(intake, await system.CreatePetitionAsync(), partner, visitor: null);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("X-Visitor-Address", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blocked_addresses_domains_and_emails_are_refused_with_403_and_lifting_a_block_lets_them_in()
    {
        var petition = await system.CreatePetitionAsync();
        using var intake = await StartAsync();
        var partner = await CreateKeyAsync(intake, "partner");
        var blocked = Signer.Unique() with { Email = $"bot-{Guid.NewGuid():N}@example.org" };
        var throwaway = $"throwaway-{Guid.NewGuid():N}.example";

        // Blocks apply to every intake on the test database within seconds: a range no other test signs from.
        var range = await BlockAsync(intake, "address", "198.18.0.0/24");
        await BlockAsync(intake, "email-domain", "@" + throwaway.ToUpperInvariant());
        await BlockAsync(intake, "email", blocked.Email);

        Assert.Equal(HttpStatusCode.Forbidden, (await SignAsync(intake, petition, partner, "198.18.0.77")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, partner, "198.18.1.77")).StatusCode);
        // A subdomain, or the domain typed in full-width letters, is the same domain.
        Assert.Equal(HttpStatusCode.Forbidden, (await SignAsync(intake, petition, partner, "198.51.100.3", Signer.Unique() with { Email = $"x@mx.{throwaway}" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SignAsync(intake, petition, partner, "198.51.100.4", Signer.Unique() with { Email = $"x@\uFF54{throwaway[1..]}" })).StatusCode);
        // A visitor address written IPv4-mapped is the same address.
        Assert.Equal(HttpStatusCode.Forbidden, (await SignAsync(intake, petition, partner, "::ffff:198.18.0.79")).StatusCode);
        using var byDomain = await SignAsync(intake, petition, partner, "198.51.100.1", Signer.Unique() with { Email = $"x@{throwaway}" });
        Assert.Equal(HttpStatusCode.Forbidden, byDomain.StatusCode);
        Assert.Equal("application/problem+json", byDomain.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await SignAsync(intake, petition, partner, "198.51.100.2", blocked.Again())).StatusCode);

        // The email block is kept as a keyed hash: the list does not show the address.
        var list = await (await Admin(intake).GetAsync("/api/admin/blocks")).Content.ReadAsStringAsync();
        Assert.Contains(throwaway, list, StringComparison.Ordinal);
        Assert.DoesNotContain(blocked.Email, list, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin(intake).DeleteAsync($"/api/admin/blocks/{range}")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(intake, petition, partner, "198.18.0.78")).StatusCode);
        await using var connection = TestServers.Connect(PetitionSystem.Database);
        Assert.Equal(0, await connection.QuerySingleAsync<long>(
            "SELECT count(*) FROM blocks WHERE email_domain IS NULL AND address IS NULL AND dedup_key IS NULL"));
    }

    [Fact]
    public async Task A_block_with_a_bad_kind_and_a_bad_reason_gets_both_errors_at_once()
    {
        using var content = new StringContent("""{"kind":"phone","value":"x","reason":"bad\u0000reason"}""", System.Text.Encoding.UTF8, "application/json");

        using var response = await system.Admin.PostAsync("/api/admin/blocks", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["kind", "reason"], problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
    }

    private async Task<HttpClient> StartAsync()
    {
        var process = system.StartIntake(new Dictionary<string, string> { ["RateLimits:Enabled"] = "true", ["RateLimits:Burst"] = "2" });
        await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return new HttpClient { BaseAddress = process.Url };
    }

    private static HttpClient Admin(HttpClient intake)
    {
        var client = new HttpClient { BaseAddress = intake.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", TestServers.AdminKey);
        return client;
    }

    private static async Task<string> CreateKeyAsync(HttpClient intake, string scope, int? perMinute = null)
    {
        using var admin = Admin(intake);
        using var response = await admin.PostAsJsonAsync("/api/admin/keys", new { name = $"{scope} for a test", scope, perMinute });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key").GetString()!;
    }

    private static async Task<Guid> BlockAsync(HttpClient intake, string kind, string value)
    {
        using var admin = Admin(intake);
        using var response = await admin.PostAsJsonAsync("/api/admin/blocks", new { kind, value, reason = "a test" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("blockId").GetGuid();
    }

    private static async Task<HttpResponseMessage> SignAsync(HttpClient intake, Guid petition, string? key = null, string? visitor = null, Signer? signer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(signer ?? Signer.Unique()) };
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        if (visitor is not null) request.Headers.Add("X-Visitor-Address", visitor);
        return await intake.SendAsync(request);
    }
}
