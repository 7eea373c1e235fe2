using System.Globalization;

namespace Petition.LoadTests.Measuring;

/// <summary>CPU time and memory of one group of processes (a service, or a server with its children).</summary>
internal sealed record ProcessUsage(string Name, double CpuSeconds, long PeakRssMb);

/// <summary>
/// Samples the CPU time and resident memory of our services and of the servers on this machine from /proc
/// (Linux), so a run reports peak RSS per service and CPU-µs per stored signature. Services are found by
/// their dll on the command line, servers by process name; a server's reaped children (PostgreSQL's
/// backends) are counted through its cumulative child times.
/// </summary>
internal sealed class ProcessMeter : IAsyncDisposable
{
    private static readonly (string Name, Func<string, string, bool> Matches)[] Groups =
    [
        ("intake", (_, cmd) => cmd.Contains("Petition.Intake.dll", StringComparison.Ordinal)),
        ("worker", (_, cmd) => cmd.Contains("Petition.Worker.dll", StringComparison.Ordinal)),
        ("counter", (_, cmd) => cmd.Contains("Petition.Counter.dll", StringComparison.Ordinal)),
        ("ceiling", (_, cmd) => cmd.Contains("Petition.Ceiling.dll", StringComparison.Ordinal)),
        ("postgresql", (comm, _) => comm == "postgres"),
        ("rabbitmq", (comm, _) => comm == "beam.smp"),
        ("redis", (comm, _) => comm == "redis-server"),
        // The trace viewer the local run starts (comm is cut to 15 characters); reported on its own, in neither sum.
        ("dashboard", (comm, _) => comm.StartsWith("Aspire.Dashboar", StringComparison.Ordinal)),
        ("load generator", (_, _) => false),
    ];

    public static readonly string[] Services = ["intake", "worker", "counter"];

    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly Dictionary<string, double> _cpuAtStart;
    private readonly Dictionary<string, long> _peakRss = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    private ProcessMeter()
    {
        _cpuAtStart = Sample().ToDictionary(s => s.Key, s => s.Value.Cpu);
        _sampling = SampleAsync();
    }

    public static ProcessMeter Start() => new();

    /// <summary>CPU used since the start and peak RSS seen, per group.</summary>
    public IReadOnlyList<ProcessUsage> Read()
    {
        var now = Sample();
        lock (_peakRss)
        {
            return Groups.Select(g => new ProcessUsage(g.Name,
                now.TryGetValue(g.Name, out var n) ? Math.Max(0, n.Cpu - _cpuAtStart.GetValueOrDefault(g.Name)) : 0,
                _peakRss.GetValueOrDefault(g.Name) / 1024 / 1024)).ToList();
        }
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                foreach (var (name, usage) in Sample())
                {
                    lock (_peakRss) _peakRss[name] = Math.Max(_peakRss.GetValueOrDefault(name), usage.Rss);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static Dictionary<string, (double Cpu, long Rss)> Sample()
    {
        var totals = new Dictionary<string, (double Cpu, long Rss)>();
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var comm = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline"));
                var group = pid == self ? "load generator" : Groups.FirstOrDefault(g => g.Matches(comm, cmd)).Name;
                if (group is null) continue;
                // Fields after the command: state is [0]; utime, stime, cutime, cstime are [11..14]; rss (pages) is [21].
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                    + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / TicksPerSecond;
                var rss = long.Parse(fields[21], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
                var sum = totals.GetValueOrDefault(group);
                totals[group] = (sum.Cpu + cpu, sum.Rss + rss);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // The process ended while being read.
            }
        }

        return totals;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
