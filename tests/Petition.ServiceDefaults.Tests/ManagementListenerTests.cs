using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Petition.Testing;

namespace Petition.ServiceDefaults.Tests;

public sealed class ManagementListenerTests
{
    [Fact]
    public async Task Health_and_metrics_answer_on_the_management_port_only_whatever_the_host_header_says()
    {
        var (publicPort, managementPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        await using var app = await StartAsync($"--urls=http://127.0.0.1:{publicPort}", $"--{ManagementListener.UrlSetting}=http://127.0.0.1:{managementPort}");
        using var client = new HttpClient();

        foreach (var path in new[] { "/health/live", "/health/ready", "/metrics" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{managementPort}{path}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"http://127.0.0.1:{publicPort}{path}")).StatusCode);
            // Routing may match on Host; this guard goes by the socket, so naming the other port changes nothing.
            using var spoofed = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{publicPort}{path}");
            spoofed.Headers.Host = $"127.0.0.1:{managementPort}";
            Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(spoofed)).StatusCode);
        }
        Assert.Equal("public", await client.GetStringAsync($"http://127.0.0.1:{publicPort}/hello"));
    }

    [Fact]
    public async Task The_guard_holds_where_routing_runs_after_it()
    {
        var (publicPort, managementPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        var builder = WebApplication.CreateBuilder([$"--urls=http://127.0.0.1:{publicPort}", $"--{ManagementListener.UrlSetting}=http://127.0.0.1:{managementPort}"]);
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.UseServiceDefaults();
        app.UseRouting(); // explicit and later: no endpoint is known yet when the guard runs
        app.MapDefaultEndpoints();
        await app.StartAsync();
        using var client = new HttpClient();

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"http://127.0.0.1:{publicPort}/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"http://127.0.0.1:{publicPort}/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{managementPort}/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Without_a_management_url_they_answer_on_the_one_listener()
    {
        var port = LoopbackPorts.Free();
        await using var app = await StartAsync($"--urls=http://127.0.0.1:{port}", $"--{ManagementListener.UrlSetting}=");
        using var client = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{port}/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"http://127.0.0.1:{port}/metrics")).StatusCode);
    }

    [Fact]
    public void A_management_url_on_a_public_port_is_refused_at_start()
    {
        var port = LoopbackPorts.Free();
        var refused = Assert.Throws<InvalidOperationException>(() => Build($"--urls=http://0.0.0.0:{port}", $"--{ManagementListener.UrlSetting}=http://127.0.0.1:{port}"));
        Assert.Contains(ManagementListener.UrlSetting, refused.Message, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartAsync(params string[] args)
    {
        var app = Build(args);
        await app.StartAsync();
        return app;
    }

    private static WebApplication Build(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        app.MapGet("/hello", () => "public");
        return app;
    }
}
