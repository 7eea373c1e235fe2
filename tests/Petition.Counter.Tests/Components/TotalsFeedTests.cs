using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Petition.Counter.Counting;

namespace Petition.Counter.Tests.Components;

/// <summary>When the counter believes totals events reach it, which decides how often it reads PostgreSQL. No servers.</summary>
public sealed class TotalsFeedTests
{
    private static readonly Uri Queue = new("rabbitmq://127.0.0.1/totals-changed-1");
    private static readonly Uri BusQueue = new("rabbitmq://127.0.0.1/bus-1");

    [Fact]
    public async Task Events_are_received_only_once_every_endpoint_is_ready_and_not_while_one_reconnects()
    {
        var feed = new TotalsFeed(NullLogger<TotalsFeed>.Instance);
        Assert.False(feed.IsReceiving);

        await feed.Ready(new Endpoint(Queue));
        await feed.Faulted(new Endpoint(BusQueue));
        Assert.False(feed.IsReceiving);

        await feed.Ready(new Endpoint(BusQueue));
        Assert.True(feed.IsReceiving);

        await feed.Faulted(new Endpoint(Queue));
        Assert.False(feed.IsReceiving);
        await feed.Ready(new Endpoint(Queue));
        await feed.Stopping(new Endpoint(Queue));
        Assert.False(feed.IsReceiving);
    }

    [Fact]
    public async Task Resuming_after_an_interruption_asks_once_for_the_missed_totals()
    {
        var feed = new TotalsFeed(NullLogger<TotalsFeed>.Instance);
        var resumed = 0;
        feed.Resumed += () => resumed++;

        await feed.Ready(new Endpoint(Queue));
        Assert.Equal(1, resumed);
        await feed.Ready(new Endpoint(Queue)); // already receiving: nothing was missed
        Assert.Equal(1, resumed);

        await feed.Faulted(new Endpoint(Queue));
        await feed.Faulted(new Endpoint(Queue)); // each failed reconnect faults again
        await feed.Ready(new Endpoint(Queue));
        Assert.Equal(2, resumed);
    }

    private sealed class Endpoint(Uri address) : ReceiveEndpointReady, ReceiveEndpointFaulted, ReceiveEndpointStopping
    {
        public Uri InputAddress => address;
        public IReceiveEndpoint ReceiveEndpoint => null!;
        public bool IsStarted => true;
        public Exception Exception => new InvalidOperationException("connection lost");
        public bool Removed => false;
    }
}
