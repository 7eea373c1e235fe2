namespace Petition.Worker;

/// <summary>How the worker batches (section "Worker").</summary>
public sealed class WorkerOptions
{
    /// <summary>Most broker messages (each holding up to a few hundred signatures) in one batch and one transaction.</summary>
    public int MessageLimit { get; set; } = 50;

    /// <summary>How long a partial batch waits for more messages.</summary>
    public TimeSpan TimeLimit { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Batches written at once by one worker process.</summary>
    public int ConcurrencyLimit { get; set; } = 2;

    /// <summary>Longest back-off between attempts while PostgreSQL is unavailable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>For fault-injection tests only: the step at which the process dies abruptly (see <see cref="Faults.CrashPoint"/>).</summary>
    public string? CrashAt { get; set; }
}
