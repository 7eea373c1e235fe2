using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using Petition.ServiceDefaults;

namespace Petition.Counter.Streaming;

/// <summary>
/// How many live streams a counter holds: at most MaxStreams in all and MaxStreamsPerClient from one
/// <see cref="ClientNetwork"/>, so one script cannot hold every connection. A refused client polls the
/// cacheable JSON count meanwhile (the widget does), so it still sees the total move.
/// </summary>
public sealed class StreamAdmission(IOptions<CounterOptions> options)
{
    private readonly ConcurrentDictionary<ClientNetwork, int> _perClient = new(ClientNetwork.Comparer);
    private int _total;

    /// <summary>Why a stream was refused: over the client's cap (429) or the counter's (503).</summary>
    public enum Refusal
    {
        None,
        ClientFull,
        CounterFull,
    }

    /// <summary>A held stream; dispose when it ends.</summary>
    public (Ticket? Ticket, Refusal Refusal) TryEnter(IPAddress? address)
    {
        if (Interlocked.Increment(ref _total) > options.Value.MaxStreams)
        {
            Interlocked.Decrement(ref _total);
            return (null, Refusal.CounterFull);
        }

        var client = address is null ? default : ClientNetwork.Of(address);
        if (_perClient.AddOrUpdate(client, 1, (_, held) => held + 1) > options.Value.MaxStreamsPerClient)
        {
            Release(client);
            return (null, Refusal.ClientFull);
        }

        return (new Ticket(this, client), Refusal.None);
    }

    /// <summary>Clients holding streams now (for tests: the map shrinks back as streams end).</summary>
    public int ClientCount => _perClient.Count;

    private void Release(ClientNetwork client)
    {
        // Removed at zero, so the map holds only clients with open streams: at most MaxStreams entries.
        while (true)
        {
            var held = _perClient[client];
            if (held == 1 ? _perClient.TryRemove(KeyValuePair.Create(client, 1)) : _perClient.TryUpdate(client, held - 1, held)) break;
        }

        Interlocked.Decrement(ref _total);
    }

    public sealed class Ticket(StreamAdmission owner, ClientNetwork client) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Release(client);
        }
    }
}
