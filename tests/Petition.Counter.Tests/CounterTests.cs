using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Petition.Contracts;
using RabbitMQ.Client;

namespace Petition.Counter.Tests;

public sealed class CounterTests(SystemWithCounter system) : IClassFixture<SystemWithCounter>
{
    [Fact]
    public async Task Stream_and_json_count_reach_exactly_the_unique_signatures_stored()
    {
        var petition = await system.CreatePetitionAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = await LiveCount.OpenAsync(system.CounterClient, petition, timeout.Token);
        Assert.Equal(0, await stream.NextTotalAsync(timeout.Token)); // the current figure, at once

        var signers = Enumerable.Range(0, 500).Select(Signer.Unique).ToList();
        await Parallel.ForEachAsync(signers.Concat(signers.Take(100).Select(s => s.Again())), new ParallelOptions { MaxDegreeOfParallelism = 50 },
            async (signer, _) => Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, signer)).StatusCode));

        await stream.ReadUntilAsync(500, timeout.Token);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 500);
        var count = await LiveCount.GetAsync(system.CounterClient, petition);
        Assert.Equal(500, count.GetProperty("total").GetInt64());
        Assert.Equal(500, count.GetProperty("byCountry").EnumerateObject().Sum(c => c.Value.GetInt64()));
        Assert.Equal(10, count.GetProperty("countries").GetInt32());
        Assert.Equal(1_000, count.GetProperty("target").GetInt64());
    }

    [Fact]
    public async Task Json_count_can_be_cached_and_revalidated_from_any_origin()
    {
        var petition = await system.CreatePetitionAsync();
        // The counter learns a new petition through LISTEN/NOTIFY, a moment after it is created: until then, 404.
        HttpResponseMessage first = null!;
        await PetitionSystem.WaitUntilAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/petitions/{petition}/count");
            request.Headers.Add("Origin", "https://campaign.example.org");
            first = await system.CounterClient.SendAsync(request);
            return first.StatusCode != HttpStatusCode.NotFound;
        }, TimeSpan.FromSeconds(10), "the counter to learn the new petition");
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, $"/api/petitions/{petition}/count");
        revalidate.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var second = await system.CounterClient.SendAsync(revalidate);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("*", first.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("max-age", first.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await system.CounterClient.GetAsync($"/api/petitions/{Guid.NewGuid()}/count")).StatusCode);
    }

    [Fact]
    public async Task Replayed_late_and_conflicting_events_leave_the_totals_right()
    {
        var petition = await system.CreatePetitionAsync();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => system.SignAsync(petition, Signer.Unique(i))));
        await PetitionSystem.AssertStoredExactlyAsync(petition, 10);
        await PetitionSystem.WaitUntilAsync(async () => (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("total").GetInt64() == 10,
            TimeSpan.FromSeconds(10), "the counter to show 10");
        var version = (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("version").GetInt64();

        var bus = system.Intake.Services.GetRequiredService<IBus>();
        PetitionTotalsChanged Event(long total, long v) => new() { PetitionId = petition, Total = total, Version = v, ByCountry = new Dictionary<string, long> { ["GB"] = total } };
        await bus.Publish(Event(3, version - 1));   // late
        await bus.Publish(Event(10, version));      // replayed
        await bus.Publish(Event(999, version));     // same version, other figure: ignored, PostgreSQL decides
        await Task.Delay(1_000);

        var count = await LiveCount.GetAsync(system.CounterClient, petition);
        Assert.Equal(10, count.GetProperty("total").GetInt64());
        Assert.Equal(version, count.GetProperty("version").GetInt64());
        Assert.Equal(0, count.GetProperty("pending").GetInt64());

        // Signatures awaiting their signers' confirmation travel beside the total, and are shown apart from it.
        await bus.Publish(Event(10, version + 1) with { Pending = 2 });
        await PetitionSystem.WaitUntilAsync(async () => (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("pending").GetInt64() == 2,
            TimeSpan.FromSeconds(10), "the counter to show 2 pending");
        Assert.Equal(10, (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Reload_on_demand_takes_what_postgres_committed()
    {
        var petition = await system.CreatePetitionAsync();
        Assert.Equal(0, (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("total").GetInt64());
        // A commit the counter heard nothing of (as if its event were lost).
        await using (var connection = TestServers.Connect(PetitionSystem.Database))
        {
            await connection.OpenAsync();
            await using var commit = new Npgsql.NpgsqlCommand("UPDATE petition_totals SET total = 7, pending = 4, version = version + 1 WHERE petition_id = @p", connection);
            commit.Parameters.AddWithValue("p", petition);
            await commit.ExecuteNonQueryAsync();
        }

        using var reload = new HttpRequestMessage(HttpMethod.Post, "/api/counts/reload");
        reload.Headers.Add("X-Api-Key", TestServers.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.CounterClient.PostAsync("/api/counts/reload", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await system.CounterClient.SendAsync(reload)).StatusCode);

        // Well before the periodic check (10 s) would have found it.
        await PetitionSystem.WaitUntilAsync(async () => (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("total").GetInt64() == 7,
            TimeSpan.FromSeconds(3), "the reloaded total");
        Assert.Equal(4, (await LiveCount.GetAsync(system.CounterClient, petition)).GetProperty("pending").GetInt64());
    }

    [Fact]
    public async Task A_thousand_live_clients_all_receive_the_final_total()
    {
        var petition = await system.CreatePetitionAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var streams = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(async _ =>
        {
            var stream = await LiveCount.OpenAsync(system.CounterClient, petition, timeout.Token);
            Assert.Equal(0, await stream.NextTotalAsync(timeout.Token));
            return stream;
        }));

        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 50 },
            async (i, _) => Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique(i))).StatusCode));

        await Task.WhenAll(streams.Select(s => s.ReadUntilAsync(200, timeout.Token)));
        foreach (var stream in streams) stream.Dispose();
        await PetitionSystem.AssertStoredExactlyAsync(petition, 200);
    }

    [Fact]
    public async Task Crossing_the_target_and_each_power_of_ten_is_published_once()
    {
        var factory = new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        const string exchange = "Petition.Contracts:PetitionMilestoneReached";
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
        var queue = (await channel.QueueDeclareAsync(exclusive: true)).QueueName;
        await channel.QueueBindAsync(queue, exchange, "");
        var response = await system.Admin.PostAsJsonAsync("/api/petitions", new { title = "Small", description = "", target = 25, confirmation = "none" });
        var petition = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        foreach (var batch in Enumerable.Range(0, 30).Chunk(5))
        {
            await Task.WhenAll(batch.Select(i => system.SignAsync(petition, Signer.Unique(i))));
            await PetitionSystem.AssertStoredExactlyAsync(petition, batch[^1] + 1);
        }

        await Task.Delay(2_000); // room for a wrongly repeated event to arrive
        var events = new List<(string Kind, long Milestone)>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            var body = JsonDocument.Parse(message.Body).RootElement.GetProperty("message");
            if (body.GetProperty("petitionId").GetGuid() == petition)
                events.Add((body.GetProperty("kind").GetString()!, body.GetProperty("milestone").GetInt64()));
        }

        Assert.Equal([("power-of-ten", 10L), ("target", 25L)], events.Order());
    }
}
