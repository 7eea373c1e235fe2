using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Petition.Hostile.Tests;

/// <summary>A script's flood: <c>count</c> requests, <c>concurrency</c> at a time, answers tallied by status.</summary>
internal static class Flood
{
    public static async Task<Tally> SendAsync(int count, int concurrency, Func<int, HttpRequestMessage> request, HttpClient client)
    {
        var tally = new Tally();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var message = request(i);
                    using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
                    tally.Add(response.StatusCode, Stopwatch.GetElapsedTime(started), response.Headers.RetryAfter is not null);
                }
                catch (HttpRequestException)
                {
                    tally.Add(0, Stopwatch.GetElapsedTime(started), false);
                }
            }
        }));
        return tally;
    }

    internal sealed class Tally
    {
        private readonly ConcurrentDictionary<HttpStatusCode, int> _byStatus = new();
        private readonly ConcurrentBag<double> _milliseconds = [];
        private int _withRetryAfter;

        public IReadOnlyDictionary<HttpStatusCode, int> ByStatus => _byStatus;

        public int WithRetryAfter => _withRetryAfter;

        public int Count(HttpStatusCode status) => _byStatus.GetValueOrDefault(status);

        public double Percentile(double p)
        {
            var sorted = _milliseconds.Order().ToArray();
            return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p / 100 * sorted.Length))];
        }

        public void Add(HttpStatusCode status, TimeSpan took, bool retryAfter)
        {
            _byStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
            _milliseconds.Add(took.TotalMilliseconds);
            if (retryAfter) Interlocked.Increment(ref _withRetryAfter);
        }

        public override string ToString() => string.Join(", ", _byStatus.OrderBy(s => s.Key).Select(s => $"{(int)s.Key}: {s.Value:N0}"));
    }
}
