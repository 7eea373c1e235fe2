using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Petition.Testing;

/// <summary>
/// Signatures arriving steadily on one petition until stopped, each lane posting one signer at a time.
/// Strict (the default): every post must be answered 202. Through faults: a signer answered 503 (which must
/// carry Retry-After) or cut off (a killed intake) is posted again until accepted, as a signer would retry;
/// anything else (a 500, say) fails the load. <see cref="Posted"/> is who was accepted, <see cref="AcceptedIds"/>
/// every id a 202 handed out, to compare with what PostgreSQL holds.
/// </summary>
public sealed class SteadyLoad
{
    private static readonly TimeSpan FinishTimeout = TimeSpan.FromSeconds(90);

    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Signer> _posted = [];
    private readonly ConcurrentBag<Guid> _acceptedIds = [];
    private readonly ConcurrentQueue<long> _firstAccepted = new(); // Stopwatch timestamps, one per accepted signer
    private readonly Func<HttpClient> _target;
    private readonly Guid _petition;
    private readonly bool _throughFaults;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Task _lanes;
    private long _last202;
    private int _refused;
    private int _cutOff;
    private int _unanswered;
    private long _stopped;

    private SteadyLoad(Func<HttpClient> target, Guid petition, int lanes, int repeatEvery, TimeSpan pause, bool throughFaults)
    {
        _target = target;
        _petition = petition;
        _throughFaults = throughFaults;
        _lanes = Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                var signer = Signer.Unique(i);
                if (!await SignAsync(signer)) break;
                _posted.Add(signer);
                _firstAccepted.Enqueue(Stopwatch.GetTimestamp());
                if (repeatEvery > 0 && i % repeatEvery == 0 && !await SignAsync(signer.Again())) break;
                if (pause > TimeSpan.Zero) await Task.Delay(pause);
            }
        })));
    }

    /// <summary>The unique signers accepted so far.</summary>
    public IReadOnlyCollection<Signer> Posted => _posted;

    /// <summary>Every signature id answered 202, repeats included.</summary>
    public IReadOnlyCollection<Guid> AcceptedIds => _acceptedIds;

    /// <summary>Answers 503 (with Retry-After), each followed by a retry.</summary>
    public int Refused => _refused;

    /// <summary>Requests that got no answer at all (connection refused or reset).</summary>
    public int CutOff => _cutOff;

    /// <summary>Signers still unanswered when the load gave up on them: they may or may not be stored.</summary>
    public int Unanswered => _unanswered;

    /// <summary>202s per second over the whole run, repeats included.</summary>
    public double AcceptedPerSecond => _acceptedIds.Count / Stopwatch.GetElapsedTime(_started, Interlocked.Read(ref _stopped) is var s and > 0 ? s : Stopwatch.GetTimestamp()).TotalSeconds;

    /// <summary>Starts the lanes on the system's in-process intake; <paramref name="repeatEvery"/> &gt; 0 also re-posts every n-th signer, typed differently.</summary>
    public static SteadyLoad Start(PetitionSystem system, Guid petition, int lanes, int repeatEvery = 0, TimeSpan pause = default) =>
        new(() => system.Client, petition, lanes, repeatEvery, pause, throughFaults: false);

    /// <summary>Starts lanes that sign through outages; <paramref name="target"/> picks the intake for each post.</summary>
    public static SteadyLoad StartThroughFaults(Func<HttpClient> target, Guid petition, int lanes, int repeatEvery = 10, TimeSpan pause = default) =>
        new(target, petition, lanes, repeatEvery, pause, throughFaults: true);

    /// <summary>Unique signers first accepted at or before <paramref name="timestamp"/> (a Stopwatch timestamp).</summary>
    public int AcceptedBy(long timestamp) => _firstAccepted.Count(t => t <= timestamp);

    /// <summary>
    /// How long after <paramref name="faultEnded"/> (a Stopwatch timestamp) the pipeline was whole again: a 202
    /// answered after it, and every signer accepted up to it stored in PostgreSQL.
    /// </summary>
    public async Task<TimeSpan> RecoveryAsync(long faultEnded, TimeSpan timeout)
    {
        var owed = AcceptedBy(faultEnded);
        StoredCounts? counts = null;
        await PetitionSystem.WaitUntilAsync(async () => Interlocked.Read(ref _last202) > faultEnded && (counts = await PetitionSystem.CountsAsync(_petition)).Rows >= owed,
            timeout, $"recovery: a new 202 and {owed} signers stored", () => $"{counts}, last 202 after the fault: {Interlocked.Read(ref _last202) > faultEnded}, 503s: {_refused}, cut off: {_cutOff}, lanes: {(_lanes.IsFaulted ? _lanes.Exception!.GetBaseException().ToString() : "running")}");
        return Stopwatch.GetElapsedTime(faultEnded);
    }

    /// <summary>Stops the lanes (each finishes the signer it is on) and rethrows any failed post.</summary>
    public async Task StopAsync()
    {
        Interlocked.Exchange(ref _stopped, Stopwatch.GetTimestamp());
        await _stop.CancelAsync();
        await _lanes;
        _stop.Dispose();
    }

    /// <summary>True once accepted; false when the load gave up on it while stopping.</summary>
    private async Task<bool> SignAsync(Signer signer)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await _target().PostAsJsonAsync($"/api/petitions/{_petition}/signatures", signer);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    _acceptedIds.Add(body.RootElement.GetProperty("signatureId").GetGuid());
                    Interlocked.Exchange(ref _last202, Stopwatch.GetTimestamp());
                    return true;
                }

                if (!_throughFaults || response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    throw new InvalidOperationException($"A signature was answered {(int)response.StatusCode}, not 202: {await response.Content.ReadAsStringAsync()}");
                if (response.Headers.RetryAfter is null || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    throw new InvalidOperationException("A 503 came without Retry-After or not as problem+json.");
                Interlocked.Increment(ref _refused);
            }
            catch (HttpRequestException) when (_throughFaults)
            {
                Interlocked.Increment(ref _cutOff);
            }

            if (_stop.IsCancellationRequested && Stopwatch.GetElapsedTime(Interlocked.Read(ref _stopped)) > FinishTimeout)
            {
                Interlocked.Increment(ref _unanswered);
                return false;
            }

            await Task.Delay(Math.Min(1_000, 50 * (attempt + 1))); // a signer retrying, not a tight loop
        }
    }
}
