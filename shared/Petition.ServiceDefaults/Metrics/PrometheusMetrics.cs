using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Petition.ServiceDefaults.Metrics;

/// <summary>
/// Collects the instruments of the given meters through a <see cref="MeterListener"/> and writes them in
/// the Prometheus text format (0.0.4). Written here because no Prometheus exporter package is served:
/// counters and up-down counters are summed, observable gauges read at scrape time, histograms bucketed
/// (by the instrument's advised boundaries, or latency buckets in seconds).
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private static readonly double[] DefaultBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Series> _series = new();

    public PrometheusMetrics(params string[] meters)
    {
        var names = meters.ToHashSet(StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!names.Contains(instrument.Meter.Name)) return;
            _series[instrument] = new Series(instrument, Boundaries(instrument));
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>The current values, in Prometheus text format.</summary>
    public string Write()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var series in _series.Values.OrderBy(s => s.Instrument.Name, StringComparer.Ordinal)) series.Write(text);
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_series.TryGetValue(instrument, out var series)) series.Record(value, tags);
    }

    private static double[] Boundaries(Instrument instrument) => instrument switch
    {
        Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
        Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
        Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
        _ => DefaultBuckets,
    };

    /// <summary>One instrument's values, per set of tags.</summary>
    private sealed class Series(Instrument instrument, double[] buckets)
    {
        private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);

        // Measurements are recorded on every request: their tags find their cell without building the
        // label text again (it is built once per distinct set of tags).
        private readonly ConcurrentDictionary<TagSet, Cell> _byTags = new();

        public Instrument Instrument { get; } = instrument;

        private string Name => Sanitise(Instrument.Name);

        // What the instrument is, read once from its type: Counter`1, UpDownCounter`1, Histogram`1, Gauge`1,
        // ObservableCounter`1, ObservableUpDownCounter`1, ObservableGauge`1.
        private readonly (bool Histogram, bool Gauge, bool Replaces) _kind = Classify(instrument.GetType().Name);

        private bool IsHistogram => _kind.Histogram;

        private bool IsGauge => _kind.Gauge;

        private bool Replaces => _kind.Replaces;

        private static (bool Histogram, bool Gauge, bool Replaces) Classify(string kind) => (
            kind.StartsWith("Histogram", StringComparison.Ordinal),
            // Anything that can go down is a gauge to Prometheus, up-down counters included.
            kind.Contains("Gauge", StringComparison.Ordinal) || kind.Contains("UpDownCounter", StringComparison.Ordinal),
            // Synchronous counters report increments; observable instruments and gauges report the current value.
            kind.StartsWith("Observable", StringComparison.Ordinal) || kind.StartsWith("Gauge", StringComparison.Ordinal));

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = new TagSet(tags.ToArray());
            if (!_byTags.TryGetValue(key, out var cell))
            {
                cell = _byTags.GetOrAdd(key, _cells.GetOrAdd(Labels(tags), _ => new Cell(buckets.Length)));
            }

            lock (cell)
            {
                if (IsHistogram)
                {
                    var i = double.IsNaN(value) ? buckets.Length : Array.BinarySearch(buckets, value);
                    i = i >= 0 ? i : ~i; // the first boundary not below the value; past the last (or NaN), +Inf
                    cell.Buckets[i]++;
                    cell.Count++;
                    cell.Sum += value;
                }
                else
                {
                    cell.Sum = Replaces ? value : cell.Sum + value;
                }
            }
        }

        public void Write(StringBuilder text)
        {
            if (_cells.IsEmpty) return;
            var type = IsHistogram ? "histogram" : IsGauge ? "gauge" : "counter";
            var name = type == "counter" ? Name + "_total" : Name;
            if (Instrument.Description is { Length: > 0 } help) text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, cell) in _cells.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                lock (cell)
                {
                    if (!IsHistogram)
                    {
                        Line(text, name, labels, cell.Sum);
                        continue;
                    }

                    long cumulative = 0;
                    for (var i = 0; i <= buckets.Length; i++)
                    {
                        cumulative += cell.Buckets[i];
                        var le = i < buckets.Length ? buckets[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
                        Line(text, Name + "_bucket", Join(labels, $"le=\"{le}\""), cumulative);
                    }

                    Line(text, Name + "_sum", labels, cell.Sum);
                    Line(text, Name + "_count", labels, cell.Count);
                }
            }
        }

        private static void Line(StringBuilder text, string name, string labels, double value) =>
            text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ')
                .Append(double.IsPositiveInfinity(value) ? "+Inf" : value.ToString(CultureInfo.InvariantCulture)).Append('\n');

        private static string Join(string labels, string more) => labels.Length == 0 ? more : labels + "," + more;

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.IsEmpty) return "";
            var pairs = new List<string>(tags.Length);
            foreach (var (key, value) in tags)
            {
                var escaped = Convert.ToString(value, CultureInfo.InvariantCulture)?
                    .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
                pairs.Add($"{Sanitise(key)}=\"{escaped}\"");
            }

            pairs.Sort(StringComparer.Ordinal);
            return string.Join(',', pairs);
        }

        private static string Sanitise(string name)
        {
            var chars = name.ToCharArray();
            for (var i = 0; i < chars.Length; i++)
            {
                if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_') chars[i] = '_';
            }

            return char.IsAsciiDigit(chars[0]) ? "_" + new string(chars) : new string(chars);
        }
    }

    /// <summary>A measurement's tags, compared by key and value.</summary>
    private readonly struct TagSet(KeyValuePair<string, object?>[] tags) : IEquatable<TagSet>
    {
        public bool Equals(TagSet other)
        {
            if (tags.Length != other.Tags.Length) return false;
            for (var i = 0; i < tags.Length; i++)
            {
                if (!string.Equals(tags[i].Key, other.Tags[i].Key, StringComparison.Ordinal) || !Equals(tags[i].Value, other.Tags[i].Value)) return false;
            }

            return true;
        }

        private KeyValuePair<string, object?>[] Tags => tags;

        public override bool Equals(object? obj) => obj is TagSet other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var (key, value) in tags)
            {
                hash.Add(key, StringComparer.Ordinal);
                hash.Add(value);
            }

            return hash.ToHashCode();
        }
    }

    private sealed class Cell(int buckets)
    {
        public long[] Buckets { get; } = new long[buckets + 1];

        public long Count { get; set; }

        public double Sum { get; set; }
    }
}
