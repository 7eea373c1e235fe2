using Microsoft.Extensions.Time.Testing;

namespace Petition.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells when the code under test starts waiting on it (a timer, a
/// delay, a timed cancellation), so a test moves time on only once the wait it means to end has begun: moved on
/// any earlier, the wait would start afterwards and last its whole length again.
/// </summary>
public sealed class ManualClock : FakeTimeProvider
{
    private readonly List<TimeSpan> _timers = [];

    /// <summary>How many timers were started so far: pass it to <see cref="WaitForTimerAsync"/> to wait for a later one.</summary>
    public int TimersStarted
    {
        get
        {
            lock (_timers) return _timers.Count;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_timers) _timers.Add(dueTime);
        return timer;
    }

    /// <summary>
    /// Waits, in real time (at most ten seconds), until a timer due in <paramref name="due"/> has been started,
    /// counting only those started after the first <paramref name="since"/>.
    /// </summary>
    public async Task WaitForTimerAsync(TimeSpan due, int since = 0)
    {
        var giveUp = DateTime.UtcNow.AddSeconds(10);
        while (!Started(due, since))
        {
            if (DateTime.UtcNow > giveUp) throw new TimeoutException($"No timer due in {due} was started within 10 s.");
            await Task.Delay(10);
        }
    }

    private bool Started(TimeSpan due, int since)
    {
        lock (_timers) return _timers.Skip(since).Contains(due);
    }
}
