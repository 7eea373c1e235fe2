using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Petition.Pipeline.Tests;

/// <summary>
/// What an operator sees: three real service processes export over OTLP to the Aspire Dashboard that the local
/// run starts, and the trace of one signature is there, from the campaign site's request to the counter's push.
/// </summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task The_dashboard_holds_one_trace_from_a_signatures_request_through_the_worker_to_the_counters_push_and_shows_it()
    {
        using var dashboard = await TelemetryDashboard.StartAsync();
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        var petition = await system.CreatePetitionAsync();
        var exporting = dashboard.ExportSettings;
        var intake = system.StartIntake(exporting);
        // The worker's line for each committed batch (Debug), so a log record falls inside the signature's trace.
        system.StartWorker(new Dictionary<string, string>(exporting) { ["Logging:LogLevel:Petition.Worker.Storing"] = "Debug" });
        var counter = system.StartCounter(exporting);
        await Task.WhenAll(intake.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)));
        // A live client, so the counter has someone to push the new total to.
        using var live = new HttpClient { BaseAddress = counter.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = new StreamReader(await live.GetStreamAsync($"/api/petitions/{petition}/count/stream"));
        Assert.StartsWith("retry", await stream.ReadLineAsync());

        var traceId = ActivityTraceId.CreateRandom();
        // No propagator: while another test in this process listens to every source, HttpClient's own span would
        // replace the campaign site's traceparent with its own.
        using var signing = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = intake.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(Signer.Unique()) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Accepted, (await signing.SendAsync(request)).StatusCode);

        // Each process flushes on its own: wait until the chain of parents from the push reaches the request.
        IReadOnlyList<DashboardSpan> spans = [];
        List<string> names = [];
        await PetitionSystem.WaitUntilAsync(async () =>
            {
                names = ChainOfParents(spans = await dashboard.TraceAsync(traceId), "totals push");
                return names.Count > 0 && names[^1] == "POST /api/petitions/{petitionId:guid}/signatures";
            },
            TimeSpan.FromSeconds(30), "one chain of spans from the counter's push back to the signature's request",
            () => $"{dashboard.LastAnswer}: {string.Join("; ", spans.Select(s => $"{s.Service} {s.Name}"))}");

        // Across the three processes and the broker.
        Assert.Equal(["Petition.Counter", "Petition.Intake", "Petition.Worker"], spans.Select(s => s.Service).Distinct().Order());
        var byId = spans.ToDictionary(s => s.SpanId);
        Assert.Equal(["totals apply", "signatures store", "signatures send"], names.Where(n => n is "totals apply" or "signatures store" or "signatures send"));
        Assert.Contains(spans, s => s.Name == "signatures commit" && byId[s.ParentSpanId!].Name == "signatures store");
        // The libraries' own spans: Npgsql's COPY under the copy, the Redis call under the dedup.
        Assert.Contains(spans, s => s.Name == "COPY FROM" && byId[s.ParentSpanId!].Name == "signatures copy");
        Assert.Contains(spans, s => s.Name.StartsWith("EVAL", StringComparison.Ordinal) && byId[s.ParentSpanId!].Name == "signatures dedup");

        // The logs go there too, with the trace id of the work they describe.
        IReadOnlyList<(string Service, string Message)> logs = [];
        await PetitionSystem.WaitUntilAsync(async () => (logs = await dashboard.LogsAsync(traceId))
                .Any(l => l.Service == "Petition.Worker" && l.Message.StartsWith("Batch of 1 signatures committed", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the worker's log line of the batch, in the signature's trace", () => string.Join("; ", logs));

        // And in the dashboard's own UI, as an operator opens it.
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(new Uri(dashboard.Ui, $"/traces/detail/{traceId}").ToString());
        await Assertions.Expect(page.GetByText("totals push").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByText("signatures commit").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("dashboard-trace.png"), FullPage = true });
    }

    /// <summary>The names of the span called <paramref name="last"/> and of its parents in turn, as far as the dashboard has them.</summary>
    private static List<string> ChainOfParents(IReadOnlyList<DashboardSpan> spans, string last)
    {
        var byId = spans.ToDictionary(s => s.SpanId);
        var chain = spans.Where(s => s.Name == last).Take(1).ToList();
        while (chain.Count > 0 && chain[^1].ParentSpanId is { } parent && byId.TryGetValue(parent, out var next)) chain.Add(next);
        return [.. chain.Select(s => s.Name)];
    }
}
