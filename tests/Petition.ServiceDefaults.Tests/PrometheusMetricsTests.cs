using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Petition.ServiceDefaults.Metrics;

namespace Petition.ServiceDefaults.Tests;

public sealed partial class PrometheusMetricsTests : IDisposable
{
    private readonly string _meterName = "Test." + Guid.NewGuid().ToString("N");
    private readonly Meter _meter;
    private readonly PrometheusMetrics _metrics;

    public PrometheusMetricsTests()
    {
        _metrics = new PrometheusMetrics(_meterName);
        _meter = new Meter(_meterName);
    }

    [Fact]
    public void Counters_are_summed_per_label_set_with_a_total_suffix()
    {
        var counter = _meter.CreateCounter<long>("petition.signatures.accepted", description: "Accepted.");
        counter.Add(3, new KeyValuePair<string, object?>("source", "online"));
        counter.Add(4, new KeyValuePair<string, object?>("source", "online"));
        counter.Add(5, new KeyValuePair<string, object?>("source", "offline"));

        var text = _metrics.Write();

        Assert.Equal("""
            # HELP petition_signatures_accepted_total Accepted.
            # TYPE petition_signatures_accepted_total counter
            petition_signatures_accepted_total{source="offline"} 5
            petition_signatures_accepted_total{source="online"} 7

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Histograms_have_cumulative_buckets_sum_and_count()
    {
        var histogram = _meter.CreateHistogram("batch.size", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [10, 100] });
        foreach (var value in new[] { 5, 10, 50, 500 }) histogram.Record(value);

        var lines = _metrics.Write().Split('\n');

        Assert.Contains("batch_size_bucket{le=\"10\"} 2", lines);
        Assert.Contains("batch_size_bucket{le=\"100\"} 3", lines);
        Assert.Contains("batch_size_bucket{le=\"+Inf\"} 4", lines);
        Assert.Contains("batch_size_sum 565", lines);
        Assert.Contains("batch_size_count 4", lines);
    }

    [Fact]
    public void Observable_gauges_are_read_at_scrape_time()
    {
        var clients = 3;
        _meter.CreateObservableGauge("sse.clients", () => clients);

        Assert.Contains("sse_clients 3", _metrics.Write().Split('\n'));
        clients = 7;
        Assert.Contains("sse_clients 7", _metrics.Write().Split('\n'));
    }

    [Fact]
    public void Up_down_counters_are_gauges_that_go_down()
    {
        var active = _meter.CreateUpDownCounter<long>("http.server.active_requests");
        active.Add(5);
        active.Add(-3);

        var lines = _metrics.Write().Split('\n');

        Assert.Contains("# TYPE http_server_active_requests gauge", lines);
        Assert.Contains("http_server_active_requests 2", lines);
    }

    [Fact]
    public void Label_values_are_escaped_and_every_line_is_valid_exposition_format()
    {
        _meter.CreateCounter<int>("odd-name.with/chars").Add(1, new KeyValuePair<string, object?>("reason", "quote \" back\\slash\nnewline"));
        _meter.CreateHistogram<double>("latency").Record(0.003);

        var text = _metrics.Write();

        Assert.Contains("odd_name_with_chars_total{reason=\"quote \\\" back\\\\slash\\nnewline\"} 1", text, StringComparison.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(ExpositionLine(), line);
        }
    }

    [Fact]
    public void Meters_not_asked_for_are_left_out()
    {
        using var other = new Meter("Other." + Guid.NewGuid().ToString("N"));
        other.CreateCounter<int>("secret").Add(1);

        Assert.DoesNotContain("secret", _metrics.Write(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _meter.Dispose();
    }

    [GeneratedRegex("""^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)+\})? (-?[0-9.eE+-]+|\+Inf|NaN))$""")]
    private static partial Regex ExpositionLine();
}
