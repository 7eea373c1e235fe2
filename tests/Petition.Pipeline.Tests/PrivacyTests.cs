using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Trace;
using Petition.Storage;
using Petition.ServiceDefaults;
using Petition.Worker;

namespace Petition.Pipeline.Tests;

public sealed class PrivacyTests
{
    [Fact]
    public async Task No_name_email_or_postal_code_reaches_a_log_line_a_span_or_a_tag()
    {
        using var capture = new SpanCapture();
        var spans = capture.Spans;
        var logs = new LogCapture();
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        // As if exporting, so the libraries' instrumentation (ASP.NET Core, HttpClient, Npgsql, Redis) enriches the
        // spans the capture reads. To a closed port: in-process hosts export every span of this test process
        // (other tests' among them), which must not flood the dashboard DashboardTests reads.
        var settings = new Dictionary<string, string>(system.Settings) { [TelemetryExtensions.OtlpEndpointSetting] = "http://127.0.0.1:9" };
        // A filter rule for the capture itself: configured LogLevel rules would otherwise hide Debug and Trace.
        await using var intake = new IntakeFactory(settings, web => web.ConfigureLogging(l => l.AddProvider(logs).AddFilter<LogCapture>(null, LogLevel.Trace)));
        using var client = intake.CreateClient();
        await using var worker = WorkerApp.Create([.. settings.Select(s => $"--{s.Key}={s.Value}"), "--urls=http://127.0.0.1:0"],
            web => web.Logging.AddProvider(logs).AddFilter<LogCapture>(null, LogLevel.Trace));
        await worker.StartAsync();
        var petition = await system.CreatePetitionAsync();
        var canary = new Signer("Quillon Zebedee-Farthing", $"Canary.{Guid.NewGuid():N}@Example.org", "NZ", "QZ 9876");

        // Every path a signature takes: accepted (through a partner site, for a visitor, consenting to contact), repeated,
        // refused, blocked, withdrawn, struck out, erased and exported.
        using var admin = intake.CreateAdminClient();
        var partnerKey = (await (await admin.PostAsJsonAsync("/api/admin/keys", new { name = "site", scope = "partner" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("key").GetString()!;
        using var asPartner = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures")
        {
            Content = JsonContent.Create(new { canary.Name, canary.Email, canary.Country, canary.PostalCode, contactConsent = true }),
            Headers = { { "X-Api-Key", partnerKey }, { "X-Visitor-Address", "192.0.2.199" } },
        };
        using var signed = await client.SendAsync(asPartner);
        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", canary.Again())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", canary with { Country = "ZZ" })).StatusCode);
        var blocked = canary with { Email = "Blocked." + canary.Email };
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/blocks", new { kind = "email", value = blocked.Email })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", blocked)).StatusCode);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        Assert.Contains(canary.Email, await admin.GetStringAsync($"/api/admin/petitions/{petition}/contacts.csv"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/admin/petitions/{petition}/invalidations", new { addressRange = "192.0.2.199" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/admin/erasures", new { email = canary.Email })).StatusCode);
        var again = await (await client.PostAsJsonAsync($"/api/petitions/{petition}/signatures", canary)).Content.ReadFromJsonAsync<JsonElement>();
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        using var withdraw = new HttpRequestMessage(HttpMethod.Delete, $"/api/signatures/{again.GetProperty("signatureId").GetGuid()}")
        {
            Headers = { { "X-Withdrawal-Token", again.GetProperty("withdrawalToken").GetString() } },
        };
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(withdraw)).StatusCode);
        await worker.StopAsync();

        var secrets = new[] { "Quillon", "Zebedee", canary.Email.ToLowerInvariant().Split('@')[0], "QZ 9876", "QZ9876", "192.0.2.199" };
        var written = logs.Lines.Concat(spans.SelectMany(Describe)).ToList();
        Assert.True(written.Count > 50, $"too little was captured to prove anything ({written.Count} lines)");
        // The instrumentation was on: ASP.NET Core's tags are there.
        Assert.Contains(written, line => line == $"url.path=/api/petitions/{petition}/signatures");
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(written, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task PostgreSQLs_error_text_which_can_quote_the_value_it_refused_stays_out_of_spans()
    {
        using var capture = new SpanCapture();
        var builder = WebApplication.CreateBuilder([$"--ConnectionStrings:Postgres={TestServers.PostgresDatabase(PetitionSystem.Database)}",
            $"--{TelemetryExtensions.OtlpEndpointSetting}=http://127.0.0.1:9"]);
        builder.AddServiceDefaults();
        builder.AddPetitionStorage();
        await using var app = builder.Build();
        Assert.NotNull(app.Services.GetService<TracerProvider>()); // built, as in a service that exports: Npgsql's spans are recorded
        await using var command = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand("SELECT @value::uuid");
        command.Parameters.AddWithValue("value", "Quillon Zebedee-Farthing");

        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());

        Assert.Contains("Quillon", refused.MessageText, StringComparison.Ordinal); // what the span would have carried
        var span = Assert.Single(capture.Spans, s => s.Source.Name == "Npgsql" && s.TagObjects.Any(t => t.Value is string text && text.Contains("::uuid", StringComparison.Ordinal)));
        var exception = Assert.Single(span.Events, e => e.Name == "exception");
        Assert.Equal("22P02", exception.Tags.Single(t => t.Key == "exception.message").Value);
        Assert.DoesNotContain(Describe(span), line => line.Contains("Quillon", StringComparison.OrdinalIgnoreCase));
    }

    private static IEnumerable<string> Describe(Activity span) =>
        [span.OperationName, span.DisplayName, .. span.TagObjects.Select(t => $"{t.Key}={t.Value}"),
         .. span.Events.Select(e => e.Name + string.Join(',', e.Tags.Select(t => $"{t.Key}={t.Value}"))), span.StatusDescription ?? ""];
}
