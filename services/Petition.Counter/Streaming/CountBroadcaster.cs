using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.Storage;

namespace Petition.Counter.Streaming;

/// <summary>
/// Pushes changed totals to live clients, at most once per PushInterval per petition however fast
/// signatures arrive. Each client holds only the latest figure, so a slow client skips figures rather
/// than holding up the others or growing a queue.
/// </summary>
public sealed class CountBroadcaster(PetitionCounts counts, IOptions<CounterOptions> options) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscriber, byte>> _subscribers = new();
    private readonly ConcurrentDictionary<Guid, byte> _changed = new();
    private int _clients;

    /// <summary>Live clients connected now.</summary>
    public int ClientCount => Volatile.Read(ref _clients);

    /// <summary>Marks a petition's totals as changed; they go out with the next push.</summary>
    public void Notify(Guid petitionId) => _changed[petitionId] = 0;

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
        using var timer = new PeriodicTimer(options.Value.PushInterval);
        var nextHeartbeat = DateTime.UtcNow + options.Value.HeartbeatInterval;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var petitionId in _changed.Keys)
                {
                    _changed.TryRemove(petitionId, out _);
                    if (counts.Find(petitionId) is not { } latest || !_subscribers.TryGetValue(petitionId, out var clients)) continue;
                    foreach (var client in clients.Keys) client.Offer(latest);
                }

                if (DateTime.UtcNow < nextHeartbeat) continue;
                nextHeartbeat = DateTime.UtcNow + options.Value.HeartbeatInterval;
                foreach (var clients in _subscribers.Values)
                {
                    foreach (var client in clients.Keys) client.Heartbeat();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Leave(Subscriber subscriber)
    {
        if (_subscribers.TryGetValue(subscriber.PetitionId, out var clients) && clients.TryRemove(subscriber, out _))
            Interlocked.Decrement(ref _clients);
    }

    /// <summary>One live client: the latest figure offered to it, and whether a heartbeat is due.</summary>
    public sealed class Subscriber(CountBroadcaster owner, Guid petitionId) : IDisposable
    {
        private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        private PetitionCount? _latest;
        private int _heartbeatDue;

        public Guid PetitionId { get; } = petitionId;

        /// <summary>Waits until there is something to send.</summary>
        public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _wake.Reader.WaitToReadAsync(cancellationToken);

        /// <summary>Takes what is to be sent: the latest figure (if any) and whether to send a heartbeat.</summary>
        public (PetitionCount? Latest, bool Heartbeat) Take()
        {
            _wake.Reader.TryRead(out _);
            return (Interlocked.Exchange(ref _latest, null), Interlocked.Exchange(ref _heartbeatDue, 0) == 1);
        }

        internal void Offer(PetitionCount latest)
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
