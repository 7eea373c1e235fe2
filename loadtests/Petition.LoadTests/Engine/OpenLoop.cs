using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Petition.LoadTests.Engine;

/// <summary>How one request ended.</summary>
internal enum Outcome : byte
{
    NotSent = 0,
    Accepted,
    Refused,

    /// <summary>503 with Retry-After: the intake shed the request at once, as it must when overloaded.</summary>
    Shed,
    ServerError,
    Failed,
}

/// <summary>The answer to one request: its outcome, HTTP status (0 when none) and the signature id of a 202.</summary>
internal readonly record struct Reply(Outcome Outcome, int Status, Guid SignatureId = default)
{
    public static Reply Of(int status, Guid signatureId = default, bool retryAfter = false) => new(
        status switch
        {
            202 => Outcome.Accepted,
            503 when retryAfter => Outcome.Shed,
            >= 500 => Outcome.ServerError,
            >= 400 => Outcome.Refused,
            _ => Outcome.Failed,
        },
        status, signatureId);
}

/// <summary>What happened in one second: requests due then, and what was answered then.</summary>
internal sealed class SecondStats
{
    public long Due;
    public long Answered;
    public long Accepted;
    public long Shed;
    public long Errors;

    /// <summary>Latency of the requests due in this second (from their due time).</summary>
    public Histogram ByDue { get; } = new();

    /// <summary>Latency of the requests answered in this second.</summary>
    public Histogram ByAnswer { get; } = new();
}

/// <summary>Everything a run recorded, indexed by request number where per request.</summary>
internal sealed class LoadRun(long requests, int seconds, long started)
{
    public long Started { get; } = started;

    public TimeSpan Elapsed { get; set; }

    /// <summary>Requests the profile offered.</summary>
    public long Planned { get; set; } = requests;

    /// <summary>Requests sent: 0 to Sent - 1.</summary>
    public long Sent { get; set; }

    public Histogram Latency { get; } = new();

    public SecondStats[] Seconds { get; } = Enumerable.Range(0, seconds).Select(_ => new SecondStats()).ToArray();

    public Outcome[] Outcomes { get; } = new Outcome[requests];

    public Guid[] SignatureIds { get; } = new Guid[requests];

    /// <summary>Stopwatch timestamp of each 202 (0 when not accepted).</summary>
    public long[] AcceptedAt { get; } = new long[requests];

    public ConcurrentDictionary<int, long> ByStatus { get; } = new();

    public long Count(Outcome outcome) => Outcomes.LongCount(o => o == outcome);

    /// <summary>Records the reply to request <paramref name="n"/>, which was due (or sent) at Stopwatch timestamp <paramref name="due"/>.</summary>
    public void Record(long n, long due, Reply reply)
    {
        var now = Stopwatch.GetTimestamp();
        var latency = Stopwatch.GetElapsedTime(due, now);
        var dueSecond = Seconds[Math.Min(Seconds.Length - 1, (int)((due - Started) / Stopwatch.Frequency))];
        var answerSecond = Seconds[Math.Min(Seconds.Length - 1, (int)((now - Started) / Stopwatch.Frequency))];
        Outcomes[n] = reply.Outcome;
        Latency.Record(latency);
        dueSecond.ByDue.Record(latency);
        answerSecond.ByAnswer.Record(latency);
        Interlocked.Increment(ref dueSecond.Due);
        Interlocked.Increment(ref answerSecond.Answered);
        ByStatus.AddOrUpdate(reply.Status, 1, (_, c) => c + 1);
        if (reply.Outcome == Outcome.Accepted)
        {
            SignatureIds[n] = reply.SignatureId;
            AcceptedAt[n] = now;
            Interlocked.Increment(ref answerSecond.Accepted);
        }
        else if (reply.Outcome is Outcome.Shed)
        {
            Interlocked.Increment(ref answerSecond.Shed);
        }
        else if (reply.Outcome is Outcome.ServerError or Outcome.Failed)
        {
            Interlocked.Increment(ref answerSecond.Errors);
        }
    }

    /// <summary>
    /// Sends request <paramref name="n"/>. Anything it throws (a transport failure, a timeout, an answer
    /// that could not be read) is an answerless reply: counted, never lost in a fire-and-forget task.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "Every failure of a request is its outcome.")]
    public static async Task<Reply> TrySendAsync(Func<long, CancellationToken, Task<Reply>> send, long n, CancellationToken cancellationToken)
    {
        try
        {
            return await send(n, cancellationToken);
        }
        catch (Exception)
        {
            return new Reply(Outcome.Failed, 0);
        }
    }
}

/// <summary>
/// Open-model load: request n is due at a fixed time given by the rate profile, whatever the system
/// answers, and its latency is measured from that due time. A stalled system therefore shows its stall
/// in every request that should have been sent meanwhile (no coordinated omission). At most
/// <paramref name="maxInFlight"/> requests are outstanding; one that waits for a slot waits on the clock.
/// Offering stops <paramref name="grace"/> (a second by default) after the profile's end: requests still
/// unsent then are reported as not sent.
/// </summary>
internal sealed class OpenLoop(RateProfile profile, int maxInFlight, TextWriter? live = null, Func<Task<string>>? status = null, TimeSpan? grace = null)
{
    private readonly TimeSpan _sendUntil = profile.Length + (grace ?? TimeSpan.FromSeconds(1));

    public async Task<LoadRun> RunAsync(Func<long, CancellationToken, Task<Reply>> send, CancellationToken cancellationToken)
    {
        var seconds = (int)Math.Ceiling(profile.Length.TotalSeconds) + 120; // answers may come after the last due time
        using var slots = new SemaphoreSlim(maxInFlight);
        long inFlight = 0;
        var start = Stopwatch.GetTimestamp();
        var run = new LoadRun(profile.Total, seconds, start);
        using var stopLive = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporter = live is null ? Task.CompletedTask : ReportLiveAsync(run, () => Interlocked.Read(ref inFlight), stopLive.Token);

        long n = 0;
        try
        {
            for (; n < profile.Total; n++)
            {
                var due = start + (long)(profile.DueAt(n).TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait, cancellationToken);
                await slots.WaitAsync(cancellationToken);
                // Bounded in time: a system that fell behind is not given the rest of the profile late.
                if (Stopwatch.GetElapsedTime(start) > _sendUntil)
                {
                    slots.Release();
                    break;
                }

                var next = n;
                _ = Task.Run(() => SendOneAsync(next, due), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped (Ctrl-C): what was sent is still waited for below, so no send outlives the slots.
        }

        // Every request sent is answered or times out (the client's own timeout) before this returns.
        for (var i = 0; i < maxInFlight; i++) await slots.WaitAsync(CancellationToken.None);
        run.Elapsed = Stopwatch.GetElapsedTime(start);
        run.Sent = n;
        await stopLive.CancelAsync();
        await reporter;
        return run;

        async Task SendOneAsync(long request, long due)
        {
            Interlocked.Increment(ref inFlight);
            try
            {
                // Recorded before the slot is given back: the run ends when every slot is back, and by
                // then every reply must be in it.
                run.Record(request, due, await LoadRun.TrySendAsync(send, request, cancellationToken));
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
                slots.Release();
            }
        }
    }

    private async Task ReportLiveAsync(LoadRun run, Func<long> inFlight, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var second = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var s = run.Seconds[Math.Min(second, run.Seconds.Length - 1)];
                var extra = status is null ? "" : await status();
                live!.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "[{0,4}s] offered {1,6:F0}/s  answered {2,6}/s  202 {3,6}  503 {4,6}  p50 {5,7:F1} ms  p99 {6,7:F1} ms  errors {7,4}  in flight {8,5}  {9}",
                    second + 1, profile.RateAt(TimeSpan.FromSeconds(second)), s.Answered, s.Accepted, s.Shed,
                    s.ByAnswer.PercentileMs(50), s.ByAnswer.PercentileMs(99), s.Errors, inFlight(),
                    extra));
                second++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
