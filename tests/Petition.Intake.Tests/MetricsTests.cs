using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Petition.Intake.Tests;

/// <summary>
/// The intake's instruments are process-wide (one static Meter, which every host in a process exports), so the
/// intake measured here is a process of its own: the deltas are this test's alone while other tests run beside it.
/// </summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_count_what_was_accepted_and_rejected()
    {
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        var petition = await system.CreatePetitionAsync(); // before the intake starts, so it knows it at once
        var process = system.StartIntake();
        await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var intake = new HttpClient { BaseAddress = process.Url };
        using var management = new HttpClient { BaseAddress = process.ManagementUrl };
        Task<HttpResponseMessage> SignAsync(Guid id, Signer signer) => intake.PostAsJsonAsync($"/api/petitions/{id}/signatures", signer);
        var before = await ScrapeAsync(management);

        var accepted = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => SignAsync(petition, Signer.Unique(i))));
        var invalid = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SignAsync(petition, new Signer("", "nope", "XX"))));
        var unknown = await SignAsync(Guid.NewGuid(), Signer.Unique());
        // The exporter serves the same rendering for 300 ms (a flood of scrapes costs one rendering each time),
        // and ASP.NET Core records a request's duration only once its answer has gone: scrape until both show.
        var after = await ScrapeAsync(management);
        for (var tries = 0; !(Delta("petition_signatures_accepted_total", ("source", "online")) > 0 && SignaturesTimed() >= 25) && tries < 30; tries++)
        {
            await Task.Delay(100);
            after = await ScrapeAsync(management);
        }

        Assert.All(accepted, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.All(invalid, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(25, Delta("petition_signatures_accepted_total", ("source", "online")));
        Assert.Equal(4, Delta("petition_signatures_rejected_total", ("reason", "invalid")));
        Assert.Equal(1, Delta("petition_signatures_rejected_total", ("reason", "petition_not_found")));
        Assert.True(Delta("petition_publish_confirm_duration_seconds_count") >= 1);
        Assert.Equal(25, Delta("petition_publish_message_signatures_sum"));
        // Latency histograms in seconds, with buckets for seconds (not OpenTelemetry's default milliseconds).
        Assert.Contains("petition_publish_confirm_duration_seconds_bucket{otel_scope_name=\"Petition\",le=\"0.005\"}", after, StringComparison.Ordinal);
        Assert.True(SignaturesTimed() >= 25, $"ASP.NET Core's request durations: {SignaturesTimed()} of the 25 202s");
        foreach (var line in after.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(ExpositionLine, line); // what Prometheus itself would accept
        }

        double Delta(string series, params (string Label, string Value)[] labels) => Value(after, series, labels) - Value(before, series, labels);
        double SignaturesTimed() => Delta("http_server_request_duration_seconds_count",
            ("http_route", "/api/petitions/{petitionId:guid}/signatures"), ("http_response_status_code", "202"));
    }

    private static readonly Regex ExpositionLine = new(
        """^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)+\})? (-?[0-9.eE+-]+|\+Inf|NaN)( [0-9]+)?)$""");

    private static readonly Regex Sample = new("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)""", RegexOptions.Multiline);

    private static async Task<string> ScrapeAsync(HttpClient management)
    {
        var response = await management.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of a series over every sample that has the given labels (whatever its others).</summary>
    private static double Value(string text, string series, (string Label, string Value)[] labels) =>
        Sample.Matches(text)
            .Where(m => m.Groups["name"].Value == series && labels.All(l => m.Groups["labels"].Value.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
}
