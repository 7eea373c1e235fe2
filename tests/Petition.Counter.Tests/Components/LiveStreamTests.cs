using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.Counter.Streaming;

namespace Petition.Counter.Tests.Components;

/// <summary>One live stream in process, and the caps on how many are held. No servers.</summary>
public sealed class LiveStreamTests
{
    private static readonly Guid Petition = Guid.NewGuid();

    [Fact]
    public async Task A_repair_at_the_same_version_reaches_a_live_stream()
    {
        var counts = new PetitionCounts();
        var options = Options.Create(new CounterOptions { PushInterval = TimeSpan.Zero });
        using var broadcaster = new CountBroadcaster(counts, options, Options.Create(new JsonOptions()), TimeProvider.System);
        await broadcaster.StartAsync(CancellationToken.None);
        var updater = new CountUpdater(counts, broadcaster, null!); // no milestones in a repair
        Assert.True(counts.TryAdvance(Count(total: 5, version: 1), out _));
        var (ticket, _) = new StreamAdmission(options).TryEnter(IPAddress.Loopback);

        var pipe = new Pipe();
        using var left = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var http = new DefaultHttpContext { RequestAborted = left.Token, RequestServices = Services() };
        http.Response.Body = pipe.Writer.AsStream();
        var streaming = new CountStreamResult(Petition, counts, broadcaster, ticket!, new JsonOptions().SerializerOptions).ExecuteAsync(http);
        using var events = new StreamReader(pipe.Reader.AsStream(), Encoding.UTF8);

        Assert.Contains("\"total\":5", await NextEventAsync(events).WaitAsync(TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
        updater.Repair(Count(total: 6, version: 1));
        var repaired = await NextEventAsync(events).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.StartsWith("id: 1\n", repaired, StringComparison.Ordinal);
        Assert.Contains("\"total\":6", repaired, StringComparison.Ordinal);
        await left.CancelAsync();
        await streaming;
        await broadcaster.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void One_client_holds_at_most_its_cap_of_streams_an_IPv6_client_by_its_64_network()
    {
        var admission = new StreamAdmission(Options.Create(new CounterOptions { MaxStreamsPerClient = 2, MaxStreams = 100 }));

        var held = new[] { admission.TryEnter(IPAddress.Parse("2001:db8:1:2::1")), admission.TryEnter(IPAddress.Parse("2001:db8:1:2::99")) };
        Assert.All(held, h => Assert.NotNull(h.Ticket));
        Assert.Equal(StreamAdmission.Refusal.ClientFull, admission.TryEnter(IPAddress.Parse("2001:db8:1:2:ffff::1")).Refusal);
        Assert.NotNull(admission.TryEnter(IPAddress.Parse("2001:db8:1:3::1")).Ticket);

        held[0].Ticket!.Dispose();
        held[0].Ticket!.Dispose(); // twice releases once
        Assert.NotNull(admission.TryEnter(IPAddress.Parse("2001:db8:1:2::7")).Ticket);
        Assert.Equal(StreamAdmission.Refusal.ClientFull, admission.TryEnter(IPAddress.Parse("2001:db8:1:2::8")).Refusal);
    }

    [Fact]
    public void The_counter_holds_at_most_its_cap_in_all_and_forgets_clients_whose_streams_ended()
    {
        var admission = new StreamAdmission(Options.Create(new CounterOptions { MaxStreamsPerClient = 5, MaxStreams = 10 }));

        var tickets = Enumerable.Range(1, 10).Select(i => admission.TryEnter(IPAddress.Parse($"203.0.113.{i}")).Ticket!).ToList();
        Assert.Equal(StreamAdmission.Refusal.CounterFull, admission.TryEnter(IPAddress.Parse("203.0.113.99")).Refusal);
        Assert.Equal(10, admission.ClientCount);

        tickets.ForEach(t => t.Dispose());
        Assert.Equal(0, admission.ClientCount);
        Assert.NotNull(admission.TryEnter(IPAddress.Parse("203.0.113.99")).Ticket);
    }

    private static PetitionCount Count(long total, long version) =>
        new(Petition, total, 1_000, new Dictionary<string, long> { ["GB"] = total }, version, null, 0);

    private static async Task<string> NextEventAsync(StreamReader events)
    {
        var text = new StringBuilder();
        while (await events.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (text.ToString().Contains("event: count", StringComparison.Ordinal)) return text.ToString();
                text.Clear();
                continue;
            }

            text.Append(line).Append('\n');
        }

        throw new InvalidOperationException("the stream ended");
    }

    private static ServiceProvider Services() =>
        new ServiceCollection().AddSingleton<IHostApplicationLifetime>(new Lifetime()).BuildServiceProvider();

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
