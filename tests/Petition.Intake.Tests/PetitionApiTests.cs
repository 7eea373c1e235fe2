using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Petition.Intake.Tests;

public sealed class PetitionApiTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    [Fact]
    public async Task Creating_a_petition_needs_the_admin_key()
    {
        var response = await system.Client.PostAsJsonAsync("/api/petitions", new { title = "T", description = "D", target = 10 });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Invalid_petition_fields_are_all_reported()
    {
        var response = await system.Admin.PostAsJsonAsync("/api/petitions",
            new { title = "", target = 0, closesAt = DateTimeOffset.UtcNow.AddDays(-1), confirmation = "sms", language = "fr" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["closesAt", "confirmation", "language", "target", "title"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Control_characters_in_petition_text_are_a_field_error_not_a_server_error()
    {
        using var content = new StringContent("{\"title\":\"Bad\\u0000title\",\"description\":\"x\\u0007\",\"target\":10}", System.Text.Encoding.UTF8, "application/json");

        var response = await system.Admin.PostAsync("/api/petitions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["description", "title"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task A_field_of_the_wrong_type_is_a_field_error()
    {
        var response = await system.Admin.PostAsJsonAsync("/api/petitions", new { title = "T", target = "lots" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("target", out _));
    }

    [Fact]
    public async Task Fields_of_the_wrong_type_are_reported_together_with_every_other_field_error()
    {
        using var content = new StringContent("""{"title":5,"description":"D","target":"lots","closesAt":"2000-01-01T00:00:00Z"}""", System.Text.Encoding.UTF8, "application/json");

        var response = await system.Admin.PostAsync("/api/petitions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(["closesAt", "target", "title"], errors.EnumerateObject().Select(p => p.Name).Order());
        // A field of the wrong type is told so, not that it is missing.
        Assert.Contains("wrong type", errors.GetProperty("target")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Created_petition_is_listed_readable_and_closable()
    {
        var created = await system.Admin.PostAsJsonAsync("/api/petitions", new { title = "Let them stay", description = "Stop the deportation.", target = 100_000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();

        var one = await system.Client.GetFromJsonAsync<JsonElement>($"/api/petitions/{id}");
        var all = await system.Client.GetFromJsonAsync<JsonElement>("/api/petitions");
        var closed = await (await system.Admin.PostAsync($"/api/petitions/{id}/close", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("Let them stay", one.GetProperty("title").GetString());
        Assert.Equal(100_000, one.GetProperty("target").GetInt64());
        Assert.Equal("open", one.GetProperty("status").GetString());
        Assert.Equal(("email", "en"), (one.GetProperty("confirmation").GetString(), one.GetProperty("language").GetString())); // the defaults
        Assert.Contains(all.EnumerateArray(), p => p.GetProperty("id").GetGuid() == id);
        Assert.Equal("closed", closed.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await system.Client.GetAsync($"/api/petitions/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await system.Admin.PostAsync($"/api/petitions/{Guid.NewGuid()}/close", null)).StatusCode);
    }

    [Fact]
    public async Task Another_intake_learns_of_new_and_closed_petitions_without_a_restart()
    {
        await using var other = new IntakeFactory(system.Settings);
        using var otherClient = other.CreateClient();
        await PetitionSystem.WaitUntilAsync(async () => (await otherClient.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the second intake");

        var petition = await system.CreatePetitionAsync();
        await PetitionSystem.WaitUntilAsync(async () => (await otherClient.PostAsJsonAsync($"/api/petitions/{petition}/signatures", Signer.Unique())).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(5), "the second intake to accept signatures for the new petition");

        (await system.Admin.PostAsync($"/api/petitions/{petition}/close", null)).EnsureSuccessStatusCode();
        await PetitionSystem.WaitUntilAsync(async () => (await otherClient.PostAsJsonAsync($"/api/petitions/{petition}/signatures", Signer.Unique())).StatusCode == HttpStatusCode.Conflict,
            TimeSpan.FromSeconds(5), "the second intake to refuse signatures for the closed petition");
    }

    [Fact]
    public async Task Unreachable_broker_gets_503_with_retry_after_never_202()
    {
        var petition = await system.CreatePetitionAsync();
        var settings = system.Settings;
        settings["ConnectionStrings:RabbitMq"] = "amqp://petition:wrong@127.0.0.1:1/";
        settings["Messaging:ConfirmTimeout"] = "00:00:02";
        await using var cutOff = new IntakeFactory(settings);
        using var client = cutOff.CreateClient();

        // Once its petitions are loaded, the only reason left to refuse is the broker.
        await PetitionSystem.WaitUntilAsync(async () => (await client.GetAsync($"/api/petitions/{petition}")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the petitions to load");
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", Signer.Unique(i))));

        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
            Assert.Contains("broker", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }
}
