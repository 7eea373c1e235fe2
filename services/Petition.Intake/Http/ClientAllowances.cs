using System.Net;
using Petition.ServiceDefaults;

namespace Petition.Intake.Http;

/// <summary>Limits per client and subject: a burst refilled per minute, and a ceiling per hour.</summary>
internal readonly record struct AllowanceLimits(int Burst, int PerMinute, int PerHour, int MaxTracked);

/// <summary>
/// How much each client may still do to each subject (sign one petition, say): a burst (a token bucket) and an
/// hourly window, in bounded memory with no timer. A client is a <see cref="ClientNetwork"/> (an IPv6 address by
/// its /64). At most <see cref="AllowanceLimits.MaxTracked"/> are held, striped, in two generations each: a client
/// seen again moves to the newer; when the newer fills, the older (clients not seen since) is dropped whole. A
/// dropped client starts afresh, so under such churn the limits err only towards letting a person through; a bot
/// needs as many addresses as are held to gain from it.
/// </summary>
internal sealed class ClientAllowances
{
    private const int StripeCount = 64;
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly AllowanceLimits _limits;
    private readonly TimeProvider _time;
    private readonly Stripe[] _stripes;
    private readonly int _generationCapacity;
    private readonly double _tokensPerTick;
    private readonly long _hourTicks;

    public ClientAllowances(AllowanceLimits limits, TimeProvider time)
    {
        _limits = limits;
        _time = time;
        _generationCapacity = Math.Max(1, limits.MaxTracked / (2 * StripeCount));
        _tokensPerTick = limits.PerMinute / 60.0 / time.TimestampFrequency;
        _hourTicks = (long)(Hour.TotalSeconds * time.TimestampFrequency);
        _stripes = [.. Enumerable.Range(0, StripeCount).Select(_ => new Stripe())];
    }

    /// <summary>Clients (with their subjects) held now, over every stripe and generation.</summary>
    public int Count => _stripes.Sum(s => s.Count);

    /// <summary>Takes one of the client's allowance for the subject; when none is left, how long until one is.</summary>
    public (bool Taken, TimeSpan RetryAfter) TryTake(Guid subject, IPAddress address)
    {
        var key = ClientKey.Of(subject, address);
        var stripe = _stripes[(uint)ClientKey.Comparer.GetHashCode(key) % StripeCount];
        var now = _time.GetTimestamp();
        lock (stripe)
        {
            var allowance = stripe.Take(key, _generationCapacity) ?? new Allowance { Tokens = _limits.Burst, RefilledAt = now, WindowStart = now };
            allowance.Tokens = Math.Min(_limits.Burst, allowance.Tokens + ((now - allowance.RefilledAt) * _tokensPerTick));
            allowance.RefilledAt = now;
            if (now - allowance.WindowStart >= _hourTicks) (allowance.WindowStart, allowance.InWindow) = (now, 0);

            TimeSpan? wait = allowance.InWindow >= _limits.PerHour ? Ticks(allowance.WindowStart + _hourTicks - now)
                : allowance.Tokens < 1 ? Ticks((long)Math.Ceiling((1 - allowance.Tokens) / _tokensPerTick))
                : null;
            if (wait is null)
            {
                allowance.Tokens -= 1;
                allowance.InWindow++;
            }

            stripe.Put(key, allowance);
            return (wait is null, wait ?? TimeSpan.Zero);
        }
    }

    private TimeSpan Ticks(long ticks) => TimeSpan.FromSeconds((double)ticks / _time.TimestampFrequency);

    private struct Allowance
    {
        public double Tokens;
        public long RefilledAt;
        public long WindowStart;
        public int InWindow;
    }

    private sealed class Stripe
    {
        private Dictionary<ClientKey, Allowance> _newer = new(ClientKey.Comparer);
        private Dictionary<ClientKey, Allowance> _older = new(ClientKey.Comparer);

        public int Count
        {
            get
            {
                lock (this) return _newer.Count + _older.Count;
            }
        }

        /// <summary>The client's allowance, moved into the newer generation's keeping (the caller puts it back).</summary>
        public Allowance? Take(ClientKey key, int capacity)
        {
            if (_newer.TryGetValue(key, out var held)) return held;
            var found = _older.Remove(key, out held);
            if (_newer.Count >= capacity) (_older, _newer) = (_newer, new Dictionary<ClientKey, Allowance>(ClientKey.Comparer));
            return found ? held : null;
        }

        public void Put(ClientKey key, Allowance allowance) => _newer[key] = allowance;
    }

    private readonly record struct ClientKey(Guid Subject, ClientNetwork Network)
    {
        public static readonly IEqualityComparer<ClientKey> Comparer = new SeededComparer();

        public static ClientKey Of(Guid subject, IPAddress address) => new(subject, ClientNetwork.Of(address));

        private sealed class SeededComparer : IEqualityComparer<ClientKey>
        {
            public bool Equals(ClientKey x, ClientKey y) => x == y;

            public int GetHashCode(ClientKey key) => HashCode.Combine(key.Subject, key.Network.SeededHash());
        }
    }
}
