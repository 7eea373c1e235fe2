using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Petition.Intake.Tests;

/// <summary>Bad input of every kind gets a clear 4xx problem+json, never a 500; no worker is needed for that.</summary>
public sealed class SignatureApiTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    [Fact]
    public async Task Valid_signature_gets_202_with_id_pending_status_and_status_url()
    {
        var petition = await system.CreatePetitionAsync();

        var response = await system.SignAsync(petition, new Signer("김민준", "min@example.org", "kr"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var id = body.GetProperty("signatureId").GetGuid();
        Assert.Equal("pending", body.GetProperty("status").GetString());
        Assert.Equal($"/api/signatures/{id}", body.GetProperty("statusUrl").GetString());
        Assert.Equal($"/api/signatures/{id}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Every_invalid_field_is_reported_at_once()
    {
        var petition = await system.CreatePetitionAsync();

        var problem = await PostProblem($"/api/petitions/{petition}/signatures", """{"name":"","email":"nope","country":"XX","postalCode":"<b>"}""");

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(["country", "email", "name", "postalCode"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{\"name\":", "body" },
        { "[1,2,3]", "body" },
        { "\"just a string\"", "body" },
        { "null", "body" },
        { "", "body" },
        { "{\"name\":42,\"email\":\"a@example.org\",\"country\":\"GB\"}", "name" },
        { "{\"name\":\"Ada\",\"email\":{\"nested\":true},\"country\":\"GB\"}", "email" },
        { "{\"name\":\"Ada\",\"email\":\"a@example.org\",\"country\":[\"GB\"]}", "country" },
        { "{\"name\":\"Ada\",\"email\":\"a@example.org\"}", "country" },
        { new string('[', 100) + new string(']', 100), "body" },
        { "{\"name\":\"\\ud800\",\"email\":\"a@example.org\",\"country\":\"GB\"}", "body" },
        { "{\"\\udc00\":1,\"name\":\"Ada\",\"email\":\"a@example.org\",\"country\":\"GB\"}", "body" },
        { "{\"name\":\"Ada\\u0000\",\"email\":\"a@example.org\",\"country\":\"GB\"}", "name" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Malformed_bodies_get_400_naming_the_field(string body, string field)
    {
        var petition = await system.CreatePetitionAsync();

        var problem = await PostProblem($"/api/petitions/{petition}/signatures", body);

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        var petition = await system.CreatePetitionAsync();
        using var content = new StringContent("name=Ada", Encoding.UTF8, "application/x-www-form-urlencoded");

        var response = await system.Client.PostAsync($"/api/petitions/{petition}/signatures", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Unknown_petition_gets_404_problem()
    {
        var response = await system.SignAsync(Guid.NewGuid(), Signer.Unique());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Malformed_petition_id_gets_404_problem()
    {
        var response = await system.Client.PostAsJsonAsync("/api/petitions/not-a-guid/signatures", Signer.Unique());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Closed_petition_gets_409()
    {
        var petition = await system.CreatePetitionAsync();
        (await system.Admin.PostAsync($"/api/petitions/{petition}/close", null)).EnsureSuccessStatusCode();

        var response = await system.SignAsync(petition, Signer.Unique());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Petition_past_its_closing_time_gets_409()
    {
        var petition = await system.CreatePetitionAsync(closesAt: DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
        await Task.Delay(2_500);

        Assert.Equal(HttpStatusCode.Conflict, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
    }

    [Fact]
    public async Task Bulk_import_needs_the_admin_key()
    {
        var petition = await system.CreatePetitionAsync();
        using var wrongKey = system.Intake.CreateClient();
        wrongKey.DefaultRequestHeaders.Add("X-Api-Key", "not-the-key-not-the-key");

        var anonymous = await system.Client.PostAsJsonAsync($"/api/petitions/{petition}/signatures/batch", new[] { Signer.Unique() });
        var wrong = await wrongKey.PostAsJsonAsync($"/api/petitions/{petition}/signatures/batch", new[] { Signer.Unique() });

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Bulk_import_of_more_than_ten_thousand_rows_is_refused_whole()
    {
        var petition = await system.CreatePetitionAsync();
        var csv = new StringBuilder("name,email,country\n");
        for (var i = 0; i <= 10_000; i++) csv.Append(FormattableString.Invariant($"N{i},n{i}@example.org,GB\n"));
        using var content = new StringContent(csv.ToString(), Encoding.UTF8, "text/csv");

        var response = await system.Admin.PostAsync($"/api/petitions/{petition}/signatures/batch", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("10000", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bulk_import_with_no_valid_row_gets_400_listing_each_row()
    {
        var petition = await system.CreatePetitionAsync();
        using var content = new StringContent("name,email,country\nA,,GB\n,b@example.org,GB\n", Encoding.UTF8, "text/csv");

        var problem = JsonDocument.Parse(await (await system.Admin.PostAsync($"/api/petitions/{petition}/signatures/batch", content)).Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal([2, 3], problem.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("line").GetInt32()));
    }

    [Fact]
    public async Task Bulk_csv_that_is_not_utf8_or_badly_quoted_gets_400()
    {
        var petition = await system.CreatePetitionAsync();
        using var latin1 = new ByteArrayContent([.. "name,email,country\nJos"u8.ToArray(), 0xE9, .. ",j@example.org,FR\n"u8.ToArray()]);
        latin1.Headers.ContentType = new("text/csv");
        using var quoted = new StringContent("name,email,country\nbad\"quote,q@example.org,GB\n", Encoding.UTF8, "text/csv");

        Assert.Equal(HttpStatusCode.BadRequest, (await system.Admin.PostAsync($"/api/petitions/{petition}/signatures/batch", latin1)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await system.Admin.PostAsync($"/api/petitions/{petition}/signatures/batch", quoted)).StatusCode);
    }

    [Fact]
    public async Task Status_of_an_id_like_ours_that_is_not_stored_reads_pending_and_of_one_never_issued_404()
    {
        var status = await system.Client.GetFromJsonAsync<JsonElement>($"/api/signatures/{Guid.CreateVersion7()}");
        var random = await system.Client.GetAsync($"/api/signatures/{Guid.NewGuid()}");
        var fromTheFuture = await system.Client.GetAsync($"/api/signatures/{Guid.CreateVersion7(DateTimeOffset.UtcNow.AddDays(1))}");

        // Whether an issued id is stored yet or never will be, the answer is the same: nobody learns who signed.
        Assert.Equal("pending", status.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, random.StatusCode);
        Assert.Equal("application/problem+json", random.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, fromTheFuture.StatusCode);
    }

    private async Task<JsonElement> PostProblem(string url, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await system.Client.PostAsync(url, content);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
