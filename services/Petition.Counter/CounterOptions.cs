namespace Petition.Counter;

/// <summary>Counter settings (section "Counter").</summary>
public sealed class CounterOptions
{
    /// <summary>How often changed totals are pushed to live clients: at most this often per petition.</summary>
    public TimeSpan PushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a comment is sent down idle streams so proxies keep them open.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the totals are compared with PostgreSQL and repaired.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often they are read from PostgreSQL while totals events do not arrive (the broker is away).</summary>
    public TimeSpan ReconcileIntervalWithoutEvents { get; set; } = TimeSpan.FromSeconds(1);
}
