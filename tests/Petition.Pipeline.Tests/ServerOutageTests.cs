using System.Net;

namespace Petition.Pipeline.Tests;

/// <summary>
/// These stop shared servers, so they run alone: after this project's parallel tests, and once no other test
/// process uses the servers (<see cref="TestServers.ExclusiveAsync"/>). Faults under load are in Petition.Faults.Tests.
/// </summary>
[CollectionDefinition(nameof(ServerOutages), DisableParallelization = true)]
public sealed class ServerOutages;

[Collection(nameof(ServerOutages))]
public sealed class ServerOutageTests
{
    [Fact]
    public async Task Worker_readiness_says_redis_is_down_while_it_is_and_recovers_by_itself()
    {
        await TestServers.ExclusiveAsync();
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        var worker = system.StartWorker(listen: true);
        await worker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = worker.ManagementUrl };

        await TestServers.ServersAsync("stop", "redis");
        try
        {
            await PetitionSystem.WaitUntilAsync(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
                TimeSpan.FromSeconds(15), "the worker to report not ready");
            var body = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/health/live")).RootElement;
            Assert.Equal("Healthy", body.GetProperty("status").GetString()); // alive, just not ready
            var ready = System.Text.Json.JsonDocument.Parse(await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Unhealthy", ready.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        }
        finally
        {
            await TestServers.ServersAsync("start", "redis");
        }

        await PetitionSystem.WaitUntilAsync(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(30), "the worker to be ready again");
    }
}
