using System.Numerics;

namespace Petition.LoadTests.Engine;

/// <summary>
/// A log-linear latency histogram in microseconds (the layout of HdrHistogram with 64 sub-buckets per
/// power of two): exact below 128 µs, within 1/64 (1.6 %) of the value above, up to about 12 days.
/// Recording is lock-free, so every request task records into the same instance.
/// </summary>
internal sealed class Histogram
{
    private const int SubBuckets = 64;
    private const int Linear = 2 * SubBuckets;
    private const int Buckets = Linear + 34 * SubBuckets;

    private readonly long[] _counts = new long[Buckets];
    private long _count;
    private long _max;

    public long Count => Interlocked.Read(ref _count);

    public long MaxMicros => Interlocked.Read(ref _max);

    public void Record(TimeSpan value) => RecordMicros((long)value.TotalMicroseconds);

    public void RecordMicros(long micros)
    {
        micros = Math.Max(0, micros);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _count);
        RecordMax(micros);
    }

    /// <summary>The value at percentile <paramref name="p"/> (0–100), in milliseconds; 0 when empty.</summary>
    public double PercentileMs(double p)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(p / 100 * total));
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            // The bucket's middle, but never past the largest value recorded.
            if (seen >= rank) return Math.Min(Middle(i), MaxMicros) / 1000.0;
        }

        return MaxMicros / 1000.0;
    }

    public void Add(Histogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < Buckets; i++) Interlocked.Add(ref _counts[i], Interlocked.Read(ref other._counts[i]));
        Interlocked.Add(ref _count, other.Count);
        RecordMax(other.MaxMicros);
    }

    private void RecordMax(long micros)
    {
        var max = Interlocked.Read(ref _max);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max) break;
            max = seen;
        }
    }

    internal static int IndexOf(long micros)
    {
        if (micros < Linear) return (int)micros;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)micros) - 6; // keeps the top 7 bits: 64..127
        var index = Linear + ((shift - 1) * SubBuckets) + (int)(micros >> shift) - SubBuckets;
        return Math.Min(index, Buckets - 1);
    }

    internal static long Middle(int index)
    {
        if (index < Linear) return index;
        var k = index - Linear;
        var shift = (k / SubBuckets) + 1;
        var low = (long)((k % SubBuckets) + SubBuckets) << shift;
        return low + ((1L << shift) / 2);
    }
}
