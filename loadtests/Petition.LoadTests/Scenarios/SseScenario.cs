using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Measuring;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Target;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>
/// How many live-count clients one counter holds, and how long a new total takes to reach all of them:
/// N streams on one petition; each round posts one signature and times, from its 202, the moment every
/// client has seen the new total.
/// </summary>
internal static class SseScenario
{
    public static async Task<ScenarioResult> RunAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        using var intake = new IntakeClient(settings.Intake, settings.AdminKey, 4);
        var petition = await intake.CreatePetitionAsync("SSE benchmark", cancellationToken);
        log.WriteLine($"[sse] petition {petition}; opening {settings.Clients} streams on {settings.Counter}");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromMinutes(5)); // bounded, whatever happens
        await using var meter = ProcessMeter.Start();
        var clients = Enumerable.Range(0, settings.Clients).Select(_ => new Client()).ToArray();
        var opened = Stopwatch.StartNew();
        var streams = new List<Task>();
        foreach (var chunk in clients.Chunk(500))
        {
            streams.AddRange(chunk.Select(c => c.RunAsync(http, settings.Counter, petition, stop.Token)));
            await Task.WhenAll(chunk.Select(c => c.Seen(0).WaitAsync(TimeSpan.FromSeconds(60), stop.Token)));
        }

        log.WriteLine($"[sse] {clients.Length} streams open and at 0 after {opened.Elapsed.TotalSeconds:F1} s");

        var everyone = new Histogram();
        var allReached = new Histogram();
        var started = Stopwatch.GetTimestamp();
        var run = Guid.NewGuid().ToString("N")[..10];
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var reply = await intake.SignAsync(petition, Signers.Body(run, round), stop.Token);
            var accepted = Stopwatch.GetTimestamp();
            if (reply.Outcome != Outcome.Accepted) throw new InvalidOperationException($"sign answered {reply.Status}");
            var reached = await Task.WhenAll(clients.Select(c => c.Seen(round).WaitAsync(TimeSpan.FromSeconds(30), stop.Token)));
            var roundLatency = new Histogram();
            foreach (var t in reached) roundLatency.Record(Stopwatch.GetElapsedTime(accepted, t));
            everyone.Add(roundLatency);
            allReached.RecordMicros(roundLatency.MaxMicros);
            log.WriteLine($"[sse] round {round}: total {round} reached all {clients.Length} clients in {roundLatency.MaxMicros / 1000.0:F0} ms (p50 {roundLatency.PercentileMs(50):F0} ms)");
            await Task.Delay(500, stop.Token);
        }

        var usage = meter.Read();
        await stop.CancelAsync();
        await Task.WhenAll(streams);
        var failed = clients.Count(c => c.Failed);
        var findings = new List<string>();
        if (failed > 0) findings.Add($"{failed} of {clients.Length} streams dropped");
        if (everyone.PercentileMs(99) >= 1000) findings.Add($"p99 from 202 to every client is {everyone.PercentileMs(99):F0} ms, over 1 s");
        var verdict = new Verdict(findings.Count == 0, settings.Rounds, settings.Rounds, settings.Rounds, 0, TimeSpan.Zero, findings);
        var loadRun = new LoadRun(0, 1, started) { Elapsed = Stopwatch.GetElapsedTime(started), Sent = settings.Rounds };
        var result = SigningRun.Result("sse", $"{clients.Length:N0} live-count clients on one petition; {settings.Rounds} signatures one at a time, each timed from its 202 until every client shows it.",
            loadRun, verdict, usage, everyone, TimeSpan.Zero, [], 0);
        result.Notes["clients"] = clients.Length.ToString(CultureInfo.InvariantCulture);
        result.Notes["worst round, until the last client had it (ms)"] = (allReached.MaxMicros / 1000.0).ToString("F0", CultureInfo.InvariantCulture);
        result.Notes["dropped streams"] = failed.ToString(CultureInfo.InvariantCulture);
        return result with { Accepted = settings.Rounds };
    }

    /// <summary>One live client: remembers when it first saw each total.</summary>
    private sealed class Client
    {
        private readonly Dictionary<long, TaskCompletionSource<long>> _seen = [];

        public bool Failed { get; private set; }

        public Task<long> Seen(long total)
        {
            lock (_seen) return Slot(total).Task;
        }

        public async Task RunAsync(HttpClient http, Uri counter, Guid petition, CancellationToken cancellationToken)
        {
            try
            {
                await CountStream.ReadAsync(http, counter, petition, total =>
                {
                    var now = Stopwatch.GetTimestamp();
                    lock (_seen)
                    {
                        // A coalesced push may skip figures: reaching n means every figure up to n was reached.
                        for (var t = 0L; t <= total; t++) Slot(t).TrySetResult(now);
                    }
                }, cancellationToken);
                Failed = !cancellationToken.IsCancellationRequested;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                Failed = true;
            }
        }

        private TaskCompletionSource<long> Slot(long total)
        {
            if (!_seen.TryGetValue(total, out var slot)) _seen[total] = slot = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            return slot;
        }
    }
}
