using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Petition.LoadTests.Reporting;

/// <summary>Writes a scenario's result as Markdown and JSON (and the spike's latency plot as SVG) into the output folder.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Write(ScenarioResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        var stem = Path.Combine(folder, result.Scenario);
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(result, Json));
        File.WriteAllText(stem + ".md", Markdown(result));
        if (result.Timeline.Count > 0) File.WriteAllText(stem + ".svg", TimelinePlot.Svg(result));
        return stem;
    }

    public static string Markdown(ScenarioResult r)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"# {r.Scenario}: {(r.Passed ? "passed" : "FAILED")}").AppendLine().AppendLine(r.Description).AppendLine();
        md.AppendLine("| measure | value |").AppendLine("| --- | ---: |");
        void Row(string name, string value) => md.AppendLine(c, $"| {name} | {value} |");
        Row("offered", r.OfferedPerSecond > 0 ? $"{r.OfferedPerSecond:N0}/s for {r.Seconds:F0} s" : $"{r.Seconds:F0} s");
        Row("requests sent / offered but not sent (system too far behind)", $"{r.Requests:N0} / {r.NotSent:N0}");
        Row("202 / 4xx / 503 + Retry-After / other 5xx / no answer", $"{r.Accepted:N0} / {r.Refused:N0} / {r.Shed:N0} / {r.ServerErrors:N0} / {r.Failed:N0}");
        Row("accepted per second", r.AcceptedPerSecond.ToString("N0", c));
        Row("stored and counted per second (end to end)", r.StoredPerSecond.ToString("N0", c));
        if (r.Intake is { } i) Row("intake latency p50 / p90 / p99 / p99.9 / max (ms)", $"{i.P50:F1} / {i.P90:F1} / {i.P99:F1} / {i.P999:F1} / {i.Max:F1}");
        if (r.Lag is { } l) Row("202 to counted p50 / p90 / p99 / max (ms)", $"{l.P50:F0} / {l.P90:F0} / {l.P99:F0} / {l.Max:F0}");
        Row("expected / stored / counter", $"{r.Verdict.Expected:N0} / {r.Verdict.Stored:N0} / {r.Verdict.CounterTotal:N0}");
        Row("202s not stored (lost)", r.Verdict.Missing202s.ToString("N0", c));
        Row("drain after the load", $"{r.Verdict.Drain.TotalSeconds:F1} s");
        Row("CPU per stored signature: services / servers (µs)", $"{r.ServicesCpuMicrosPerSignature:F0} / {r.ServersCpuMicrosPerSignature:F0}");
        foreach (var u in r.Usage) Row($"{u.Name}: CPU s, peak RSS MB", $"{u.CpuSeconds:F1}, {u.PeakRssMb}");
        foreach (var (key, value) in r.Notes) Row(key, value);
        md.AppendLine();
        if (r.Verdict.Findings.Count > 0)
        {
            md.AppendLine("Findings:");
            foreach (var f in r.Verdict.Findings) md.AppendLine(c, $"- {f}");
            md.AppendLine();
        }

        if (r.Timeline.Count > 0)
        {
            md.AppendLine("| s | offered/s | answered | 202 | 503 | errors | intake p50 ms | intake p99 ms | lag p99 ms | queue msgs |");
            md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var s in r.Timeline)
            {
                md.AppendLine(c, $"| {s.Second} | {s.Offered:F0} | {s.Answered} | {s.Accepted} | {s.Shed} | {s.Errors} | {s.IntakeP50:F1} | {s.IntakeP99:F1} | {s.LagP99:F0} | {s.QueueMessages?.ToString(c) ?? ""} |");
            }
        }

        return md.ToString();
    }
}

/// <summary>Latency over time as an SVG line chart: intake p50 and p99 and end-to-end lag p99 per second, on a log scale.</summary>
internal static class TimelinePlot
{
    public static string Svg(ScenarioResult r)
    {
        const int w = 900, h = 420, left = 70, right = 20, top = 40, bottom = 50;
        var c = CultureInfo.InvariantCulture;
        var rows = r.Timeline;
        var maxSecond = Math.Max(1, rows.Max(s => s.Second));
        var maxMs = Math.Max(10, rows.Max(s => Math.Max(s.IntakeP99, s.LagP99)));
        var decades = Math.Ceiling(Math.Log10(maxMs)); // y from 0.1 ms to 10^decades ms
        double X(double second) => left + ((w - left - right) * second / maxSecond);
        double Y(double ms) => top + ((h - top - bottom) * (1 - ((Math.Log10(Math.Max(ms, 0.1)) + 1) / (decades + 1))));

        var svg = new StringBuilder();
        svg.AppendLine(c, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine(c, $"""<rect width="{w}" height="{h}" fill="white"/><text x="{left}" y="20" font-size="14">{r.Scenario}: latency per second (log scale)</text>""");
        // The offered rate's changes (a spike) as shaded bands.
        var peak = rows.Max(s => s.Offered);
        foreach (var band in rows.Where(s => s.Offered >= peak && peak > rows.Min(x => x.Offered)))
            svg.AppendLine(c, $"""<rect x="{X(band.Second - 1):F1}" y="{top}" width="{X(1) - X(0):F1}" height="{h - top - bottom}" fill="#fde8c8"/>""");
        for (var d = -1; d <= decades; d++)
        {
            var ms = Math.Pow(10, d);
            svg.AppendLine(c, $"""<line x1="{left}" x2="{w - right}" y1="{Y(ms):F1}" y2="{Y(ms):F1}" stroke="#ddd"/><text x="{left - 6}" y="{Y(ms) + 4:F1}" text-anchor="end">{ms.ToString("0.#", c)} ms</text>""");
        }

        for (var s = 0; s <= maxSecond; s += Math.Max(1, maxSecond / 10))
            svg.AppendLine(c, $"""<text x="{X(s):F1}" y="{h - bottom + 18}" text-anchor="middle">{s}</text>""");
        svg.AppendLine(c, $"""<text x="{(w + left) / 2}" y="{h - 10}" text-anchor="middle">seconds (shaded: peak offered rate {peak:N0}/s)</text>""");
        void Line(Func<SecondRow, double> value, string colour, string label, int legend)
        {
            var points = string.Join(' ', rows.Where(s => value(s) > 0).Select(s => $"{X(s.Second - 0.5).ToString("F1", c)},{Y(value(s)).ToString("F1", c)}"));
            svg.AppendLine(c, $"""<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>""");
            svg.AppendLine(c, $"""<rect x="{w - 230}" y="{top + 6 + (legend * 18)}" width="14" height="4" fill="{colour}"/><text x="{w - 210}" y="{top + 12 + (legend * 18)}">{label}</text>""");
        }

        Line(s => s.IntakeP50, "#1f77b4", "intake p50", 0);
        Line(s => s.IntakeP99, "#d62728", "intake p99", 1);
        Line(s => s.LagP99, "#2ca02c", "202 to counted p99", 2);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
