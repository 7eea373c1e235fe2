using System.Diagnostics;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Measuring;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Target;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>Request n of a scenario: which of its petitions, which signer, and whether the signer retypes their email.</summary>
internal readonly record struct Planned(int Petition, long Signer, bool Retyped = false);

/// <summary>
/// The frame every signing scenario runs in: fresh petitions, a live-count watcher on each, a load engine
/// posting the planned signatures, then drain and verification, lag read off the watchers, and the CPU
/// and memory of every process.
/// </summary>
internal sealed class SigningRun(Settings settings, TextWriter log) : IDisposable
{
    private readonly HttpClient _counterHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public IntakeClient Intake { get; } = new(settings.Intake, settings.AdminKey, settings.Connections);

    /// <summary>A tag that makes this run's emails its own.</summary>
    public string RunTag { get; } = Guid.NewGuid().ToString("N")[..10];

    public async Task<IReadOnlyList<Guid>> CreatePetitionsAsync(string scenario, int count, CancellationToken cancellationToken)
    {
        var petitions = new Guid[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, token) => petitions[i] = await Intake.CreatePetitionAsync($"Load test {scenario} {i}", token));
        return petitions;
    }

    /// <summary>Runs an engine over the planned signatures and verifies what the pipeline made of them.</summary>
    public Task<ScenarioResult> RunAsync(
        string scenario, string description, IReadOnlyList<Guid> petitions, Func<long, Planned> plan, Engine engine,
        Func<int, double> offeredAt, double offered, CancellationToken cancellationToken) =>
        RunAsync(scenario, description, petitions, (n, token) =>
        {
            var p = plan(n);
            return Intake.SignAsync(petitions[p.Petition], Signers.Body(RunTag, p.Signer, p.Retyped), token);
        }, run => Expect(run, petitions, plan), engine, offeredAt, offered, signatures: null, cancellationToken);

    /// <summary>The load engine: given the send and the live status line, runs and returns what it recorded.</summary>
    public delegate Task<LoadRun> Engine(Func<long, CancellationToken, Task<Reply>> send, Func<Task<string>> status);

    /// <summary>What a run should have stored: per petition, each unique signer's first 202 time, and every 202'd id.</summary>
    public sealed record Expected(IReadOnlyList<Expectation> Petitions, IReadOnlyList<List<long>> FirstAccepts, IReadOnlyCollection<Guid> AcceptedIds);

    /// <summary>The general frame: any send (a signature, an import), any expectation.</summary>
    public async Task<ScenarioResult> RunAsync(
        string scenario, string description, IReadOnlyList<Guid> petitions, Func<long, CancellationToken, Task<Reply>> send,
        Func<LoadRun, Expected> expect, Engine engine, Func<int, double> offeredAt, double offered, Func<LoadRun, long>? signatures,
        CancellationToken cancellationToken)
    {
        var watchers = petitions.Select(p => CountWatcher.Start(_counterHttp, settings.Counter, p)).ToList();
        try
        {
            await PipelineWaitAsync(() => watchers.All(w => w.WhenReached(0) is not null), "every live-count stream to open", cancellationToken);
            var depth = new QueueDepth(_counterHttp, settings.QueueMetrics, settings.Queue);
            var queueBySecond = new Dictionary<int, long?>();
            var clock = Stopwatch.StartNew();
            async Task<string> Status()
            {
                var messages = await depth.ReadAsync();
                lock (queueBySecond) queueBySecond[(int)clock.Elapsed.TotalSeconds] = messages;
                return $"queue {messages?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} msgs  counted {watchers.Sum(w => w.Total):N0}";
            }

            await using var meter = ProcessMeter.Start();
            log.WriteLine($"[{scenario}] {description}");
            var run = await engine(send, Status);
            var expected = expect(run);
            IReadOnlyList<ProcessUsage> usage = [];
            var verdict = await PipelineVerifier.VerifyAsync(settings.Postgres, _counterHttp, settings.Counter, expected.Petitions, expected.AcceptedIds,
                TimeSpan.FromSeconds(120) + run.Elapsed, log, drained: () => usage = meter.Read());

            // Lag per petition, and per second of acceptance for the timeline.
            var lag = new Histogram();
            var lagBySecond = new Dictionary<int, Histogram>();
            Histogram BySecond(long acceptedAt)
            {
                var second = (int)((acceptedAt - run.Started) / Stopwatch.Frequency);
                if (!lagBySecond.TryGetValue(second, out var h)) lagBySecond[second] = h = new Histogram();
                return h;
            }

            // The live streams push at most 4 a second: give them a moment to show the final totals.
            await PipelineWaitAsync(() => watchers.Select((w, i) => w.Total >= expected.Petitions[i].UniqueAccepted).All(x => x), "", cancellationToken, throwOnTimeout: false);
            long unseen = 0;
            for (var i = 0; i < petitions.Count; i++)
            {
                lag.Add(watchers[i].LagOf(expected.FirstAccepts[i], BySecond, out var notShown));
                unseen += notShown;
            }

            if (unseen > 0)
            {
                verdict = verdict with { Passed = false, Findings = [.. verdict.Findings, $"{unseen} accepted signers never shown counted on the live stream"] };
            }
            var lastCounted = watchers.Select((w, i) => w.WhenReached(expected.Petitions[i].UniqueAccepted) ?? 0).DefaultIfEmpty().Max();
            var endToEnd = lastCounted > run.Started ? Stopwatch.GetElapsedTime(run.Started, lastCounted) : TimeSpan.Zero;
            var timeline = Timeline(run, offeredAt, lagBySecond, queueBySecond);
            return Result(scenario, description, run, verdict, usage, lag, endToEnd, timeline, offered, signatures?.Invoke(run));
        }
        finally
        {
            foreach (var watcher in watchers) await watcher.DisposeAsync();
        }
    }

    internal static ScenarioResult Result(
        string scenario, string description, LoadRun run, Verdict verdict, IReadOnlyList<ProcessUsage> usage, Histogram? lag,
        TimeSpan endToEnd, IReadOnlyList<SecondRow> timeline, double offered, long? signatures = null)
    {
        var stored = Math.Max(1, verdict.Stored);
        double Cpu(Func<string, bool> which) => usage.Where(u => which(u.Name)).Sum(u => u.CpuSeconds) * 1e6 / stored;
        var accepted = run.Count(Outcome.Accepted);
        return new ScenarioResult
        {
            Scenario = scenario,
            Description = description,
            OfferedPerSecond = offered,
            Seconds = run.Elapsed.TotalSeconds,
            Requests = run.Sent,
            Accepted = accepted,
            Refused = run.Count(Outcome.Refused),
            Shed = run.Count(Outcome.Shed),
            ServerErrors = run.Count(Outcome.ServerError),
            Failed = run.Count(Outcome.Failed),
            NotSent = Math.Max(0, run.Planned - run.Sent),
            AcceptedPerSecond = (signatures ?? accepted) / run.Elapsed.TotalSeconds,
            StoredPerSecond = endToEnd > TimeSpan.Zero ? verdict.Stored / endToEnd.TotalSeconds : 0,
            Intake = run.Latency.Count > 0 ? Percentiles.Of(run.Latency) : null,
            Lag = lag is { Count: > 0 } ? Percentiles.Of(lag) : null,
            Verdict = verdict,
            Usage = usage,
            ServicesCpuMicrosPerSignature = Cpu(n => ProcessMeter.Services.Contains(n)),
            ServersCpuMicrosPerSignature = Cpu(n => n is "postgresql" or "rabbitmq" or "redis"),
            Timeline = timeline,
        };
    }

    /// <summary>Per petition: the unique signers accepted and left unanswered, each unique signer's first 202, and every 202'd id.</summary>
    private static Expected Expect(LoadRun run, IReadOnlyList<Guid> petitions, Func<long, Planned> plan)
    {
        var first = petitions.Select(_ => new Dictionary<long, long>()).ToArray();
        var unsure = petitions.Select(_ => new HashSet<long>()).ToArray();
        var ids = new List<Guid>();
        for (long n = 0; n < run.Sent; n++)
        {
            var p = plan(n);
            switch (run.Outcomes[n])
            {
                case Outcome.Accepted:
                    ids.Add(run.SignatureIds[n]);
                    var at = run.AcceptedAt[n];
                    if (!first[p.Petition].TryGetValue(p.Signer, out var seen) || at < seen) first[p.Petition][p.Signer] = at;
                    break;
                case Outcome.Shed or Outcome.ServerError or Outcome.Failed or Outcome.NotSent:
                    unsure[p.Petition].Add(p.Signer); // may have been stored after all (503: not confirmed in time)
                    break;
            }
        }

        var expectations = petitions.Select((id, i) =>
            new Expectation(id, first[i].Count, unsure[i].Count(s => !first[i].ContainsKey(s)))).ToList();
        return new Expected(expectations, first.Select(f => f.Values.ToList()).ToArray(), ids);
    }

    internal static List<SecondRow> Timeline(LoadRun run, Func<int, double> offeredAt, Dictionary<int, Histogram>? lagBySecond, Dictionary<int, long?> queueBySecond)
    {
        var last = Array.FindLastIndex(run.Seconds, s => s.Due > 0 || s.Answered > 0);
        return Enumerable.Range(0, last + 1).Select(i =>
        {
            var s = run.Seconds[i];
            return new SecondRow(i + 1, s.Due > 0 ? offeredAt(i) : 0, s.Answered, s.Accepted, s.Shed, s.Errors,
                s.ByDue.PercentileMs(50), s.ByDue.PercentileMs(99),
                lagBySecond?.GetValueOrDefault(i)?.PercentileMs(99) ?? 0, queueBySecond.GetValueOrDefault(i));
        }).ToList();
    }

    private static async Task PipelineWaitAsync(Func<bool> condition, string what, CancellationToken cancellationToken, bool throwOnTimeout = true)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(throwOnTimeout ? 30 : 3))
            {
                if (throwOnTimeout) throw new TimeoutException($"Timed out waiting for {what}.");
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public void Dispose()
    {
        Intake.Dispose();
        _counterHttp.Dispose();
    }
}
