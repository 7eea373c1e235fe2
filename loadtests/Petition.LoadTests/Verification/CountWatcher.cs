using System.Diagnostics;
using System.Text.Json;
using Petition.LoadTests.Engine;

namespace Petition.LoadTests.Verification;

/// <summary>
/// Follows one petition's live total over the counter's SSE stream, as a campaign page does, and keeps
/// when each total was first seen. End-to-end lag is read off it: the k-th signer accepted is counted
/// once the total seen reaches k.
/// </summary>
internal sealed class CountWatcher : IAsyncDisposable
{
    private readonly List<(long At, long Total)> _seen = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private CountWatcher(HttpClient http, Uri counter, Guid petition)
    {
        Petition = petition;
        _reading = ReadAsync(http, counter);
    }

    public Guid Petition { get; }

    public long Total
    {
        get
        {
            lock (_seen) return _seen.Count == 0 ? 0 : _seen[^1].Total;
        }
    }

    /// <summary>The Stopwatch timestamp at which the total first reached <paramref name="total"/>; null if it has not.</summary>
    public long? WhenReached(long total)
    {
        lock (_seen) return _seen.FirstOrDefault(s => s.Total >= total) is { At: > 0 } hit ? hit.At : null;
    }

    public static CountWatcher Start(HttpClient http, Uri counter, Guid petition) => new(http, counter, petition);

    /// <summary>When each of the signers accepted at <paramref name="acceptedAt"/> was counted, as seen so far; see <see cref="Lag"/>.</summary>
    public Histogram LagOf(IEnumerable<long> acceptedAt, Func<long, Histogram?>? bySecond, out long unseen)
    {
        (long At, long Total)[] seen;
        lock (_seen) seen = [.. _seen];
        return Lag(acceptedAt, seen, bySecond, out unseen);
    }

    /// <summary>
    /// The lag from each signer's 202 (Stopwatch timestamps, in any order) to the first total seen that
    /// counts them: the k-th signer accepted is counted once a total of at least k was shown.
    /// <paramref name="unseen"/> is how many were never shown counted.
    /// </summary>
    internal static Histogram Lag(IEnumerable<long> acceptedAt, IReadOnlyList<(long At, long Total)> seen, Func<long, Histogram?>? bySecond, out long unseen)
    {
        var lag = new Histogram();
        var j = 0;
        long k = 0;
        unseen = 0;
        foreach (var accepted in acceptedAt.Order())
        {
            k++;
            while (j < seen.Count && seen[j].Total < k) j++;
            if (j == seen.Count)
            {
                unseen++;
                continue;
            }

            var value = Stopwatch.GetElapsedTime(accepted, Math.Max(accepted, seen[j].At));
            lag.Record(value);
            bySecond?.Invoke(accepted)?.Record(value);
        }

        return lag;
    }

    private async Task ReadAsync(HttpClient http, Uri counter)
    {
        // Reconnects until stopped: a dropped stream is a finding of the sse scenario, not of this one.
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await CountStream.ReadAsync(http, counter, Petition, total =>
                {
                    lock (_seen)
                    {
                        if (_seen.Count == 0 || total > _seen[^1].Total) _seen.Add((Stopwatch.GetTimestamp(), total));
                    }
                }, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}
