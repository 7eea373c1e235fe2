using System.Text;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.Counter.Streaming;
using Petition.Storage;

namespace Petition.Counter.Tests.Components;

/// <summary>The broadcaster in process on a manual clock: what live clients are offered, and when. No servers.</summary>
public sealed class CountBroadcasterTests
{
    private static readonly TimeSpan PushInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_change_after_a_quiet_spell_is_pushed_at_once_to_that_petitions_clients_only()
    {
        await using var rig = await Rig.StartAsync();
        var (petition, other) = (Guid.NewGuid(), Guid.NewGuid());
        using var client = rig.Broadcaster.Subscribe(petition);
        using var bystander = rig.Broadcaster.Subscribe(other);
        using (rig.Broadcaster.Subscribe(petition))
        {
            Assert.Equal(3, rig.Broadcaster.ClientCount);
        }

        rig.Change(petition, total: 7, version: 1);

        var (latest, heartbeat) = await NextAsync(client);
        Assert.False(heartbeat);
        Assert.Equal(1, latest!.Version);
        Assert.StartsWith("id: 1\nevent: count\ndata: {", Encoding.UTF8.GetString(latest.Bytes), StringComparison.Ordinal);
        Assert.Contains("\"total\":7", Encoding.UTF8.GetString(latest.Bytes), StringComparison.Ordinal);
        Assert.False(await OfferedWithinAsync(bystander, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(2, rig.Broadcaster.ClientCount);
    }

    [Fact]
    public async Task Changes_within_the_push_interval_go_out_together_at_its_end_as_the_latest_figure()
    {
        await using var rig = await Rig.StartAsync();
        var petition = Guid.NewGuid();
        using var client = rig.Broadcaster.Subscribe(petition);
        rig.Change(petition, total: 1, version: 1);
        Assert.Equal(1, (await NextAsync(client)).Latest!.Version);

        var timers = rig.Clock.TimersStarted;
        rig.Change(petition, total: 2, version: 2);
        rig.Change(petition, total: 3, version: 3);
        await rig.Clock.WaitForTimerAsync(PushInterval, since: timers);
        rig.Clock.Advance(PushInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(await OfferedWithinAsync(client, TimeSpan.FromMilliseconds(200)));

        rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var (latest, _) = await NextAsync(client);
        Assert.Equal(3, latest!.Version); // the second figure skipped: only the latest counts
        Assert.False(await OfferedWithinAsync(client, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_client_that_falls_behind_gets_only_the_latest_figure_not_a_queue_of_them()
    {
        await using var rig = await Rig.StartAsync();
        var petition = Guid.NewGuid();
        using var slow = rig.Broadcaster.Subscribe(petition);
        using var quick = rig.Broadcaster.Subscribe(petition);

        for (var version = 1; version <= 3; version++)
        {
            rig.Change(petition, total: version * 10, version: version);
            Assert.Equal(version, (await NextAsync(quick)).Latest!.Version);
            if (version < 3)
            {
                // The next change waits out the push interval from this push.
                rig.Clock.Advance(PushInterval);
            }
        }

        var (latest, _) = slow.Take();
        Assert.Equal(3, latest!.Version);
        Assert.Null(slow.Take().Latest);
    }

    [Fact]
    public async Task An_idle_stream_is_offered_a_heartbeat_every_heartbeat_interval()
    {
        await using var rig = await Rig.StartAsync();
        using var client = rig.Broadcaster.Subscribe(Guid.NewGuid());
        await rig.Clock.WaitForTimerAsync(HeartbeatInterval);

        rig.Clock.Advance(HeartbeatInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(await OfferedWithinAsync(client, TimeSpan.FromMilliseconds(200)));
        rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var (latest, heartbeat) = await NextAsync(client);

        Assert.True(heartbeat);
        Assert.Null(latest);
    }

    private static async Task<(CountEvent? Latest, bool Heartbeat)> NextAsync(CountBroadcaster.Subscriber client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.True(await client.WaitAsync(timeout.Token));
        return client.Take();
    }

    private static async Task<bool> OfferedWithinAsync(CountBroadcaster.Subscriber client, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await client.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A started broadcaster over its counts, on a manual clock.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly PetitionCounts _counts = new();

        private Rig() => Broadcaster = new CountBroadcaster(_counts,
            Options.Create(new CounterOptions { PushInterval = PushInterval, HeartbeatInterval = HeartbeatInterval }),
            Options.Create(new JsonOptions()), Clock);

        public ManualClock Clock { get; } = new();

        public CountBroadcaster Broadcaster { get; }

        public static async Task<Rig> StartAsync()
        {
            var rig = new Rig();
            await rig.Broadcaster.StartAsync(CancellationToken.None);
            return rig;
        }

        /// <summary>A commit the counter heard of: the new figures, then the broadcaster told.</summary>
        public void Change(Guid petition, long total, long version)
        {
            Assert.True(_counts.TryAdvance(new PetitionCount(petition, total, 1_000, new Dictionary<string, long> { ["GB"] = total }, version, null, 0), out _));
            Broadcaster.Notify(petition);
        }

        public async ValueTask DisposeAsync()
        {
            await Broadcaster.StopAsync(CancellationToken.None);
            Broadcaster.Dispose();
        }
    }
}
