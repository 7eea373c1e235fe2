using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.ServiceDefaults;

namespace Petition.Counter.Streaming;

/// <summary>
/// Pushes changed totals to live clients: at once when nothing was pushed for PushInterval, otherwise
/// with the next push, so a petition gets at most a few pushes a second however fast signatures arrive.
/// Each update is encoded once; each client holds only the latest, so a slow client skips figures
/// rather than holding up the others or growing a queue.
/// </summary>
public sealed class CountBroadcaster(PetitionCounts counts, IOptions<CounterOptions> options, IOptions<JsonOptions> json, TimeProvider time) : BackgroundService, ICountListener
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscriber, byte>> _subscribers = new();
    // Each changed petition, with the span of the latest change, whose trace the push continues.
    private readonly ConcurrentDictionary<Guid, ActivityContext> _changed = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private int _clients;

    /// <summary>Registers the connected-clients gauge; one broadcaster per process.</summary>
    public void StartMetering() => PetitionTelemetry.Meter.CreateObservableGauge(
        "petition.sse.clients", () => ClientCount, "{client}", "Live-count clients connected.");

    /// <summary>Live clients connected now.</summary>
    public int ClientCount => Volatile.Read(ref _clients);

    /// <summary>Marks a petition's totals as changed; they go out with the next push.</summary>
    public void Notify(Guid petitionId)
    {
        _changed[petitionId] = Activity.Current?.Context ?? default;
        _wake.Writer.TryWrite(true);
    }

    /// <summary>Registers a live client of one petition; dispose to leave.</summary>
    public Subscriber Subscribe(Guid petitionId)
    {
        var subscriber = new Subscriber(this, petitionId);
        _subscribers.GetOrAdd(petitionId, _ => new ConcurrentDictionary<Subscriber, byte>())[subscriber] = 0;
        Interlocked.Increment(ref _clients);
        return subscriber;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        StartMetering();
        var pushInterval = options.Value.PushInterval;
        var heartbeatInterval = options.Value.HeartbeatInterval;
        var lastPush = 0L;
        var lastHeartbeat = time.GetTimestamp();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using (var heartbeatDue = new CancellationTokenSource(heartbeatInterval, time))
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, heartbeatDue.Token))
                {
                    try
                    {
                        await _wake.Reader.ReadAsync(idle.Token);
                        // Coalesce: at most one push per PushInterval.
                        var wait = pushInterval - time.GetElapsedTime(lastPush);
                        if (lastPush != 0 && wait > TimeSpan.Zero) await Task.Delay(wait, time, stoppingToken);
                        _wake.Reader.TryRead(out _);
                        lastPush = time.GetTimestamp();
                        Push();
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                    }
                }

                if (time.GetElapsedTime(lastHeartbeat) >= heartbeatInterval)
                {
                    lastHeartbeat = time.GetTimestamp();
                    foreach (var clients in _subscribers.Values)
                    {
                        foreach (var client in clients.Keys) client.Heartbeat();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Push()
    {
        foreach (var petitionId in _changed.Keys)
        {
            _changed.TryRemove(petitionId, out var cause);
            if (counts.Find(petitionId) is not { } latest || !_subscribers.TryGetValue(petitionId, out var clients) || clients.IsEmpty) continue;
            using var activity = PetitionTelemetry.Source.StartActivity("totals push", ActivityKind.Producer, cause,
                tags: [new("petition.id", petitionId), new("petition.version", latest.Version), new("petition.clients", clients.Count)]);
            var update = CountEvent.Of(latest, json.Value.SerializerOptions);
            foreach (var client in clients.Keys) client.Offer(update);
        }
    }

    private void Leave(Subscriber subscriber)
    {
        if (_subscribers.TryGetValue(subscriber.PetitionId, out var clients) && clients.TryRemove(subscriber, out _))
            Interlocked.Decrement(ref _clients);
    }

    /// <summary>One live client: the latest update offered to it, and whether a heartbeat is due.</summary>
    public sealed class Subscriber(CountBroadcaster owner, Guid petitionId) : IDisposable
    {
        private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        private CountEvent? _latest;
        private int _heartbeatDue;

        public Guid PetitionId { get; } = petitionId;

        /// <summary>Waits until there is something to send.</summary>
        public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _wake.Reader.WaitToReadAsync(cancellationToken);

        /// <summary>Takes what is to be sent: the latest update (if any) and whether to send a heartbeat.</summary>
        public (CountEvent? Latest, bool Heartbeat) Take()
        {
            _wake.Reader.TryRead(out _);
            return (Interlocked.Exchange(ref _latest, null), Interlocked.Exchange(ref _heartbeatDue, 0) == 1);
        }

        internal void Offer(CountEvent latest)
        {
            Volatile.Write(ref _latest, latest);
            _wake.Writer.TryWrite(true);
        }

        internal void Heartbeat()
        {
            Volatile.Write(ref _heartbeatDue, 1);
            _wake.Writer.TryWrite(true);
        }

        public void Dispose() => owner.Leave(this);
    }
}
