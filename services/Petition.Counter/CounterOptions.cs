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

    /// <summary>Live streams one counter holds at most; past it, 503 with Retry-After (run more counters).</summary>
    public int MaxStreams { get; set; } = 10_000;

    /// <summary>Live streams one client (an address, an IPv6 /64) may hold; past it, 429 with Retry-After.</summary>
    public int MaxStreamsPerClient { get; set; } = 20;

    /// <summary>How long a refused stream is told to wait before trying again; it polls the JSON count meanwhile.</summary>
    public TimeSpan StreamRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client: a load balancer in front.</summary>
    public string[] TrustedProxies { get; set; } = [];
}
