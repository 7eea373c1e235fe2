using Microsoft.Playwright;

namespace Petition.Counter.Tests;

/// <summary>The embeddable widget in a real headless Chromium (Debian's), served by a real counter.</summary>
public sealed class WidgetBrowserTests(SystemWithCounter system) : IClassFixture<SystemWithCounter>
{
    [Fact]
    public async Task Widget_on_a_campaign_page_shows_the_total_change_live()
    {
        var petition = await system.CreatePetitionAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 800, Height = 500 } });
        var counter = page.Locator("[data-petition-counter]");

        await page.GotoAsync(new Uri(system.Counter.Url!, $"/demo.html?petition={petition}").ToString());
        await Assertions.Expect(counter).ToHaveAttributeAsync("data-total", "0");
        var before = await page.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("widget-before.png") });

        await Task.WhenAll(Enumerable.Range(0, 1_234).Chunk(100).Select(async chunk =>
        {
            foreach (var i in chunk) await system.SignAsync(petition, Signer.Unique(i));
        }));

        // No reload: the number changes in place, pushed over Server-Sent Events.
        await Assertions.Expect(counter).ToHaveAttributeAsync("data-total", "1234", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator(".petition-counter-total")).ToHaveTextAsync("1,234");
        await Assertions.Expect(page.Locator(".petition-counter-detail")).ToContainTextAsync("10 countries");
        var after = await page.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("widget-after.png") });
        Assert.NotEqual(before, after); // the rendered page changed, not just the DOM attribute
    }

    [Fact]
    public async Task Refused_a_stream_the_widget_polls_meanwhile_and_streams_again_after_Retry_After()
    {
        var petition = await system.CreatePetitionAsync();
        var counter = system.StartCounter(new Dictionary<string, string> { ["Counter:MaxStreams"] = "1", ["Counter:StreamRetryAfter"] = "00:00:03" });
        await counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = counter.Url, Timeout = Timeout.InfiniteTimeSpan };
        var held = await client.GetAsync($"/api/petitions/{petition}/count/stream", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, held.StatusCode); // the only stream this counter takes
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var widget = page.Locator("[data-petition-counter]");
        static bool Stream(IResponse r, int status) => r.Url.Contains("/count/stream", StringComparison.Ordinal) && r.Status == status;

        var refused = page.WaitForResponseAsync(r => Stream(r, 503));
        await page.GotoAsync(new Uri(counter.Url!, $"/demo.html?petition={petition}").ToString());
        Assert.Equal("3", await (await refused).HeaderValueAsync("retry-after"));
        for (var i = 0; i < 3; i++) await system.SignAsync(petition, Signer.Unique(i));
        // Refused, it polls the JSON count meanwhile.
        await Assertions.Expect(widget).ToHaveAttributeAsync("data-total", "3", new() { Timeout = 15_000 });

        var streaming = page.WaitForResponseAsync(r => Stream(r, 200), new() { Timeout = 15_000 });
        held.Dispose(); // the place frees; the widget takes it at its next try, 3 s after its last refusal
        await streaming;
        await system.SignAsync(petition, Signer.Unique(3));
        await Assertions.Expect(widget).ToHaveAttributeAsync("data-total", "4", new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task A_stream_whose_lines_end_in_CRLF_is_read_as_well()
    {
        var petition = await system.CreatePetitionAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        // As a proxy that rewrites line ends might deliver it.
        await page.RouteAsync("**/count/stream", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 200,
            ContentType = "text/event-stream",
            Body = "retry: 2000\r\n\r\nevent: count\r\nid: 7\r\ndata: {\"version\":7,\"total\":42,\"countries\":3,\"target\":100}\r\n\r\n",
        }));

        await page.GotoAsync(new Uri(system.Counter.Url!, $"/demo.html?petition={petition}").ToString());

        await Assertions.Expect(page.Locator("[data-petition-counter]")).ToHaveAttributeAsync("data-total", "42");
    }

    [Fact]
    public async Task A_stream_silent_for_three_heartbeats_is_dropped_and_opened_again()
    {
        var petition = await system.CreatePetitionAsync();
        // A counter whose heartbeat never comes within the test: its stream goes silent after the first count.
        var counter = system.StartCounter(new Dictionary<string, string> { ["Counter:HeartbeatInterval"] = "00:10:00" });
        await counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.Clock.InstallAsync(); // the widget's timers, on a clock the test moves
        var streams = 0;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/count/stream", StringComparison.Ordinal)) Interlocked.Increment(ref streams);
        };

        await page.GotoAsync(new Uri(counter.Url!, $"/demo.html?petition={petition}").ToString());
        await Assertions.Expect(page.Locator("[data-petition-counter]")).ToHaveAttributeAsync("data-total", "0");
        Assert.Equal(1, Volatile.Read(ref streams));
        await page.Clock.RunForAsync(30_000);
        Assert.Equal(1, Volatile.Read(ref streams)); // silent, but not yet for long

        await page.Clock.RunForAsync(25_000); // past 45 s of silence, and past the jittered 2 s retry
        await PetitionSystem.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref streams) >= 2), TimeSpan.FromSeconds(10), "the widget to open a new stream");
    }
}
