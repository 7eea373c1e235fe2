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
}
