using Microsoft.Extensions.Options;

namespace Petition.Intake.Publishing;

/// <summary>
/// Admission control. A signature is taken only while the signatures already waiting for their confirm would
/// all be confirmed within the budget (Coalescing:AdmissionBudget), judged by the confirm rate measured over
/// the last moments; otherwise the request is answered 503 with Retry-After at once, before its body is read.
/// So under a flood the intake keeps confirming at its full rate, every signer hears back within about the
/// budget, and nobody waits without bound in Kestrel's queue or ours.
/// </summary>
internal sealed class PublishAdmission(IOptions<CoalescingOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(250);
    private readonly CoalescingOptions _options = options.Value;
    private readonly Lock _rateLock = new();
    private long _waiting;
    private double _rate;
    private long _sliceStart = time.GetTimestamp();
    private long _sliceConfirmed;

    /// <summary>Signatures taken and not yet confirmed or failed.</summary>
    public long Waiting => Volatile.Read(ref _waiting);

    /// <summary>Confirmed signatures a second, as last measured (at least the configured floor).</summary>
    public double ConfirmRate
    {
        get
        {
            lock (_rateLock) return Math.Max(_options.MinConfirmRate, CurrentRate());
        }
    }

    /// <summary>Whether one more signature would fit the budget now (checked before a body is read; imports are only checked).</summary>
    public bool HasRoom(out TimeSpan retryAfter) => Fits(1, out retryAfter);

    /// <summary>Takes <paramref name="signatures"/> to be sent when they fit the budget; dispose the ticket once they are answered.</summary>
    public bool TryTake(int signatures, out Ticket ticket, out TimeSpan retryAfter)
    {
        ticket = default;
        if (!Fits(signatures, out retryAfter)) return false;
        Interlocked.Add(ref _waiting, signatures);
        ticket = new Ticket(this, signatures);
        retryAfter = TimeSpan.Zero;
        return true;
    }

    private bool Fits(int signatures, out TimeSpan retryAfter)
    {
        var wait = (Waiting + signatures) / ConfirmRate;
        retryAfter = TimeSpan.Zero;
        // Something is always taken when nothing waits.
        if (wait <= _options.AdmissionBudget.TotalSeconds || Waiting == 0) return true;
        // Long enough for the backlog to clear, a second at least; spread so the refused do not return together.
        retryAfter = TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(wait), 1, 30) + Random.Shared.Next(0, 2));
        return false;
    }

    /// <summary>Signatures taken until they are answered, confirmed or failed.</summary>
    public readonly struct Ticket(PublishAdmission owner, int signatures) : IDisposable
    {
        public void Dispose() => Interlocked.Add(ref owner._waiting, -signatures);
    }

    /// <summary>The broker confirmed <paramref name="signatures"/>: the rate they are confirmed at.</summary>
    public void Confirmed(int signatures)
    {
        lock (_rateLock)
        {
            _sliceConfirmed += signatures;
            var elapsed = time.GetElapsedTime(_sliceStart);
            if (elapsed < Slice) return;
            var measured = _sliceConfirmed / elapsed.TotalSeconds;
            _rate = _rate == 0 ? measured : (0.5 * _rate) + (0.5 * measured);
            (_sliceStart, _sliceConfirmed) = (time.GetTimestamp(), 0);
        }
    }

    // While confirms stop (the broker blocked), the rate falls with the time since the last slice closed.
    private double CurrentRate()
    {
        var elapsed = time.GetElapsedTime(_sliceStart);
        return elapsed > 4 * Slice ? Math.Min(_rate, _sliceConfirmed / elapsed.TotalSeconds) : _rate;
    }
}
