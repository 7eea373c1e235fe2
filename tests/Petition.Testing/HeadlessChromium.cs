using Microsoft.Playwright;

namespace Petition.Testing;

/// <summary>Debian's Chromium, headless, driven by Playwright (whose bundled driver needs no browser download).</summary>
public static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Launches it, installing Debian's chromium first when it is missing.</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        ArgumentNullException.ThrowIfNull(playwright);
        if (!File.Exists(Path)) await TestServers.InstallAsync("chromium");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Path,
            Headless = true,
            // As root, in a closed network: no sandbox, no background calls home.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>Where a screenshot goes: artifacts/screenshots/ at the repository root.</summary>
    public static string Screenshot(string name)
    {
        var folder = System.IO.Path.Combine(TestServers.RepoRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        return System.IO.Path.Combine(folder, name);
    }
}
