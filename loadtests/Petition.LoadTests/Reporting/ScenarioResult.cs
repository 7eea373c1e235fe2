using Petition.LoadTests.Engine;
using Petition.LoadTests.Measuring;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Reporting;

/// <summary>Latency percentiles in milliseconds.</summary>
internal sealed record Percentiles(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public static Percentiles Of(Histogram h) =>
        new(h.Count, h.PercentileMs(50), h.PercentileMs(90), h.PercentileMs(99), h.PercentileMs(99.9), h.MaxMicros / 1000.0);
}

/// <summary>One second of a run: what was offered and answered, intake latency of the requests due then, and the lag of the signers accepted then.</summary>
internal sealed record SecondRow(int Second, double Offered, long Answered, long Accepted, long Shed, long Errors, double IntakeP50, double IntakeP99, double LagP99, long? QueueMessages);

/// <summary>Everything one scenario measured and concluded; written as Markdown and JSON.</summary>
internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }

    public required string Description { get; init; }

    public double OfferedPerSecond { get; init; }

    public double Seconds { get; init; }

    public long Requests { get; init; }

    public long Accepted { get; init; }

    /// <summary>4xx answers (expected in the bad-input scenario only).</summary>
    public long Refused { get; init; }

    /// <summary>503 with Retry-After: shed at once by admission control (or the broker away), safe to retry.</summary>
    public long Shed { get; init; }

    /// <summary>Any other 5xx: a defect.</summary>
    public long ServerErrors { get; init; }

    /// <summary>No answer: timeouts and dropped connections.</summary>
    public long Failed { get; init; }

    /// <summary>Requests the profile offered that were never sent: the system had fallen so far behind that the generator's in-flight cap held them past the run's end.</summary>
    public long NotSent { get; init; }

    /// <summary>Signatures answered 202 per second of load.</summary>
    public double AcceptedPerSecond { get; init; }

    /// <summary>Signatures stored and counted per second, from the first request to the counter showing the last one.</summary>
    public double StoredPerSecond { get; init; }

    public Percentiles? Intake { get; init; }

    /// <summary>From a signer's 202 to the live total counting them.</summary>
    public Percentiles? Lag { get; init; }

    public required Verdict Verdict { get; init; }

    public IReadOnlyList<ProcessUsage> Usage { get; init; } = [];

    /// <summary>CPU time of intake, worker and counter together per stored signature, in µs.</summary>
    public double ServicesCpuMicrosPerSignature { get; init; }

    /// <summary>CPU time of PostgreSQL, RabbitMQ and Redis per stored signature, in µs.</summary>
    public double ServersCpuMicrosPerSignature { get; init; }

    public IReadOnlyList<SecondRow> Timeline { get; init; } = [];

    public IDictionary<string, string> Notes { get; init; } = new Dictionary<string, string>();

    /// <summary>The spike's own figures, for the spike scenarios.</summary>
    public Scenarios.SpikeFigures? Spike { get; init; }

    public bool Passed => Verdict.Passed && ServerErrors == 0;

    /// <summary>Peak RSS of the heaviest of our services, in MB.</summary>
    public long PeakServiceRssMb => Usage.Where(u => ProcessMeter.Services.Contains(u.Name)).Select(u => u.PeakRssMb).DefaultIfEmpty().Max();
}
