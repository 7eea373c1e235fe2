using System.Diagnostics;

namespace Petition.LoadTests.Engine;

/// <summary>
/// Closed-model load, for ceilings and maximum throughput: <paramref name="lanes"/> clients each send
/// their next request as soon as the last is answered, for <paramref name="duration"/> or until
/// <paramref name="maxRequests"/> are sent. Latency is each request's own service time.
/// </summary>
internal sealed class ClosedLoop(int lanes, TimeSpan duration, long maxRequests)
{
    public async Task<LoadRun> RunAsync(Func<long, CancellationToken, Task<Reply>> send, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var run = new LoadRun(maxRequests, (int)Math.Ceiling(duration.TotalSeconds) + 60, start);
        long next = -1;
        await Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetElapsedTime(start) < duration && !cancellationToken.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= maxRequests) return;
                var sent = Stopwatch.GetTimestamp();
                run.Record(n, sent, await LoadRun.TrySendAsync(send, n, cancellationToken));
            }
        }, CancellationToken.None)));
        run.Elapsed = Stopwatch.GetElapsedTime(start);
        run.Sent = Math.Min(maxRequests, next + 1);
        run.Planned = run.Sent; // a closed loop sends what it can: nothing is left unsent
        return run;
    }
}
