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
        // Batches flushed every 200 ms instead of 5 s, so the test need not wait for them.
        var exporting = new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = dashboard.OtlpEndpoint, ["OTEL_BSP_SCHEDULE_DELAY"] = "200" };
        var intake = system.StartIntake(exporting);
        system.StartWorker(exporting);
        var counter = system.StartCounter(exporting);
        await Task.WhenAll(intake.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)));
        // A live client, so the counter has someone to push the new total to.
        using var live = new HttpClient { BaseAddress = counter.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = new StreamReader(await live.GetStreamAsync($"/api/petitions/{petition}/count/stream"));
        Assert.StartsWith("retry", await stream.ReadLineAsync());

        var traceId = ActivityTraceId.CreateRandom();
        using var signing = new HttpClient { BaseAddress = intake.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(Signer.Unique()) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Accepted, (await signing.SendAsync(request)).StatusCode);

        IReadOnlyList<DashboardSpan> spans = [];
        await PetitionSystem.WaitUntilAsync(async () => (spans = await dashboard.TraceAsync(traceId)).Any(s => s.Name == "totals push"),
            TimeSpan.FromSeconds(30), "the counter's push to reach the dashboard in the signature's trace",
            () => string.Join("; ", spans.Select(s => $"{s.Service} {s.Name}")));

        Assert.Equal(["Petition.Counter", "Petition.Intake", "Petition.Worker"], spans.Select(s => s.Service).Distinct().Order());
        // One chain of parents from the push back to the request, across the three processes and the broker.
        var byId = spans.ToDictionary(s => s.SpanId);
        var chain = new List<DashboardSpan> { spans.Single(s => s.Name == "totals push") };
        while (chain[^1].ParentSpanId is { } parent && byId.TryGetValue(parent, out var next)) chain.Add(next);
        var names = chain.Select(s => s.Name).ToList();
        Assert.Equal("POST /api/petitions/{petitionId:guid}/signatures", names[^1]);
        Assert.Equal(["totals apply", "signatures store", "signatures send"], names.Where(n => n is "totals apply" or "signatures store" or "signatures send"));
        Assert.Contains(spans, s => s.Name == "signatures commit" && byId[s.ParentSpanId!].Name == "signatures store");
        Assert.Contains(spans, s => s.Name == "COPY FROM" && s.Service == "Petition.Worker"); // Npgsql's own span

        // And in the dashboard's own UI, as an operator opens it.
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(new Uri(dashboard.Ui, $"/traces/detail/{traceId}").ToString());
        await Assertions.Expect(page.GetByText("totals push").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByText("signatures commit").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("dashboard-trace.png"), FullPage = true });
    }
}
