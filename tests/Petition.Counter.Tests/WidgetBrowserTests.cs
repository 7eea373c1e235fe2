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

}
