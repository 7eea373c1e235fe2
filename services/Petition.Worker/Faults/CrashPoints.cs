using Microsoft.Extensions.Options;

namespace Petition.Worker.Faults;

/// <summary>The steps of a batch between receiving it and acking it.</summary>
public enum CrashPoint
{
    /// <summary>Redis has been asked which signers are taken; nothing is in PostgreSQL.</summary>
    AfterDedup,

    /// <summary>The rows are in the staging table, uncommitted.</summary>
    AfterCopy,

    /// <summary>The transaction committed; Redis does not know the new signers, no event, no ack.</summary>
    AfterCommit,

    /// <summary>The totals event is published; the batch is not acked.</summary>
    BeforeAck,
}

/// <summary>
/// Fault injection for the redelivery tests: with Worker:CrashAt set to a <see cref="CrashPoint"/>, the process
/// dies at that step of its first batch as abruptly as a kill -9 (no finally block, no ack, no graceful close).
/// Unset, as in production, it does nothing.
/// </summary>
public sealed class CrashPoints(IOptions<WorkerOptions> options)
{
    private readonly CrashPoint? _crashAt = Enum.TryParse<CrashPoint>(options.Value.CrashAt, ignoreCase: true, out var point) ? point : null;

    /// <summary>Marks that a batch reached <paramref name="point"/>.</summary>
    public void Reached(CrashPoint point)
    {
        if (_crashAt == point) Environment.FailFast($"Fault injection: crashing at {point}.");
    }
}
