using System.Net;
using Petition.ServiceDefaults;

namespace Petition.Intake.Http;

/// <summary>
/// How much each signer may still sign each petition: a burst (a token bucket) and an hourly window, in bounded
/// memory with no timer. A signer is a <see cref="ClientNetwork"/> (an IPv6 address by its /64). At most <see cref="RateLimitOptions.MaxTrackedSigners"/> are
/// held, striped, in two generations each: a signer seen again moves to the newer; when the newer fills, the
/// older (signers not seen since) is dropped whole. A dropped signer starts afresh, so under such churn the
/// limits err only towards letting a person sign; a bot needs as many addresses as are held to gain from it.
/// </summary>
internal sealed class SigningAllowances
{
    private const int StripeCount = 64;
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private readonly RateLimitOptions _options;
    private readonly TimeProvider _time;
    private readonly Stripe[] _stripes;
    private readonly int _generationCapacity;
    private readonly double _tokensPerTick;
    private readonly long _hourTicks;

    public SigningAllowances(RateLimitOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _generationCapacity = Math.Max(1, options.MaxTrackedSigners / (2 * StripeCount));
        _tokensPerTick = options.PerMinute / 60.0 / time.TimestampFrequency;
        _hourTicks = (long)(Hour.TotalSeconds * time.TimestampFrequency);
        _stripes = [.. Enumerable.Range(0, StripeCount).Select(_ => new Stripe())];
    }

    /// <summary>Signers held now, over every stripe and generation.</summary>
    public int Count => _stripes.Sum(s => s.Count);

    /// <summary>Takes one signature of the allowance; when none is left, how long until one is.</summary>
    public (bool Taken, TimeSpan RetryAfter) TryTake(Guid petitionId, IPAddress address)
    {
        var key = SignerKey.Of(petitionId, address);
        var stripe = _stripes[(uint)SignerKey.Comparer.GetHashCode(key) % StripeCount];
        var now = _time.GetTimestamp();
        lock (stripe)
        {
            var allowance = stripe.Take(key, _generationCapacity) ?? new Allowance { Tokens = _options.Burst, RefilledAt = now, WindowStart = now };
            allowance.Tokens = Math.Min(_options.Burst, allowance.Tokens + ((now - allowance.RefilledAt) * _tokensPerTick));
            allowance.RefilledAt = now;
            if (now - allowance.WindowStart >= _hourTicks) (allowance.WindowStart, allowance.InWindow) = (now, 0);

            TimeSpan? wait = allowance.InWindow >= _options.PerHour ? Ticks(allowance.WindowStart + _hourTicks - now)
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
        private Dictionary<SignerKey, Allowance> _newer = new(SignerKey.Comparer);
        private Dictionary<SignerKey, Allowance> _older = new(SignerKey.Comparer);

        public int Count
        {
            get
            {
                lock (this) return _newer.Count + _older.Count;
            }
        }

        /// <summary>The signer's allowance, moved into the newer generation's keeping (the caller puts it back).</summary>
        public Allowance? Take(SignerKey key, int capacity)
        {
            if (_newer.TryGetValue(key, out var held)) return held;
            var found = _older.Remove(key, out held);
            if (_newer.Count >= capacity) (_older, _newer) = (_newer, new Dictionary<SignerKey, Allowance>(SignerKey.Comparer));
            return found ? held : null;
        }

        public void Put(SignerKey key, Allowance allowance) => _newer[key] = allowance;
    }

    private readonly record struct SignerKey(Guid PetitionId, ClientNetwork Network)
    {
        public static readonly IEqualityComparer<SignerKey> Comparer = new SeededComparer();

        public static SignerKey Of(Guid petitionId, IPAddress address) => new(petitionId, ClientNetwork.Of(address));

        private sealed class SeededComparer : IEqualityComparer<SignerKey>
        {
            public bool Equals(SignerKey x, SignerKey y) => x == y;

            public int GetHashCode(SignerKey key) => HashCode.Combine(key.PetitionId, key.Network.SeededHash());
        }
    }
}
