using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Petition.Testing;

/// <summary>The intake in process, on the real servers, with the given settings over the environment's.</summary>
public sealed class IntakeFactory(IReadOnlyDictionary<string, string> settings, Action<IWebHostBuilder>? configure = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        TestServers.EnsureStarted(); // the intake reads the servers' settings from the environment
        // UseSetting, not ConfigureAppConfiguration: services read their connection strings while building.
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        configure?.Invoke(builder);
    }

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", TestServers.AdminKey);
        return client;
    }
}
