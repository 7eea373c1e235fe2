using Microsoft.Playwright;
using Petition.Testing;

namespace Petition.Mail.Tests;

/// <summary>What a signer does, in a real headless Chromium: sign on the demo page, open the mailed link, press Confirm.</summary>
public sealed class ConfirmationBrowserTests(MailingSystem system) : IClassFixture<MailingSystem>
{
    [Fact]
    public async Task Signing_on_the_page_then_pressing_confirm_on_the_mailed_link_makes_the_live_total_tick()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email", title: "Stop the forced repatriation");
        var email = $"browser-{Guid.NewGuid():N}@example.org";
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var campaign = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 800, Height = 600 } });
        var counter = campaign.Locator("[data-petition-counter]");

        await campaign.GotoAsync(new Uri(system.Counter.Url!, $"/demo.html?petition={petition}&intake={Uri.EscapeDataString(system.IntakeProcess.Url!.ToString().TrimEnd('/'))}").ToString());
        await Assertions.Expect(counter).ToHaveAttributeAsync("data-total", "0");
        await campaign.FillAsync("input[name=name]", "김민준");
        await campaign.FillAsync("input[name=email]", email);
        await campaign.FillAsync("input[name=country]", "KR");
        await campaign.ClickAsync("form button");
        await Assertions.Expect(campaign.Locator("#result")).ToContainTextAsync("Check your inbox");
        await campaign.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("confirm-1-signed.png") });

        var mail = Assert.Single(await LocalMailbox.WaitForAsync(email, TimeSpan.FromSeconds(45)));
        var link = System.Text.RegularExpressions.Regex.Match(mail.TextBody!, @"http\S+/confirm#\S+").Value;
        Assert.StartsWith(system.IntakeProcess.Url!.ToString().TrimEnd('/'), link, StringComparison.Ordinal);

        var confirmPage = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 800, Height = 600 } });
        await confirmPage.GotoAsync(link);
        await Assertions.Expect(confirmPage.Locator(".petition")).ToHaveTextAsync("Stop the forced repatriation");
        await confirmPage.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("confirm-2-page.png") });
        await Task.Delay(1_000);
        await Assertions.Expect(counter).ToHaveAttributeAsync("data-total", "0"); // opening the link counted nothing

        await confirmPage.ClickAsync("#act");
        await Assertions.Expect(confirmPage.Locator("#result")).ToContainTextAsync("your signature is confirmed");
        await confirmPage.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("confirm-3-confirmed.png") });

        // No reload: the campaign page's counter ticks, pushed over Server-Sent Events.
        await Assertions.Expect(counter).ToHaveAttributeAsync("data-total", "1", new() { Timeout = 10_000 });
        await campaign.ScreenshotAsync(new PageScreenshotOptions { Path = HeadlessChromium.Screenshot("confirm-4-counted.png") });
    }
}
