using System.Net;
using Petition.Signing;

namespace Petition.Intake.Http;

/// <summary>Limits on signature-status lookups (section "RateLimits:StatusLookups"): each one is a PostgreSQL query.</summary>
public sealed class StatusLookupOptions
{
    /// <summary>Lookups one client may make in a row (a page polling a few signatures until they are counted).</summary>
    public int Burst { get; set; } = 20;

    /// <summary>How fast that burst refills, per minute.</summary>
    public int PerMinute { get; set; } = 60;

    /// <summary>At most this many per client in any hour.</summary>
    public int PerHour { get; set; } = 600;

    /// <summary>Clients whose allowances are held (about 80 bytes each); past it, those not seen for longest start afresh.</summary>
    public int MaxTrackedClients { get; set; } = 100_000;

    /// <summary>
    /// Lookups running at once, over all clients, so that many addresses together still cannot take the
    /// connection pool that withdrawals and the catalog need; past it, 503 with Retry-After.
    /// </summary>
    public int MaxConcurrent { get; set; } = 16;
}

/// <summary>Why a status lookup is not run.</summary>
internal enum StatusLookupRefusal
{
    None,

    /// <summary>An id this system cannot have issued (ours are UUIDv7, minted at acceptance): 404 without a query.</summary>
    NeverIssued,

    /// <summary>The client's allowance is spent: 429.</summary>
    TooMany,

    /// <summary>As many lookups as allowed already run: 503.</summary>
    Busy,
}

/// <summary>
/// What GET /api/signatures/{id} may cost: nothing for an id never issued, a per-client allowance (off with the
/// signing limits, for load tests), and a bound on the queries running at once (always). The answer for an id
/// that was issued but is not stored stays "pending", so nobody learns which ids exist.
/// </summary>
internal sealed class StatusLookups(StatusLookupOptions options, bool perClient, TimeProvider time)
{
    /// <summary>UUIDv7 ids carry the millisecond they were minted; intakes' clocks may differ by this much.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly ClientAllowances? _allowances = perClient
        ? new ClientAllowances(new AllowanceLimits(options.Burst, options.PerMinute, options.PerHour, options.MaxTrackedClients), time)
        : null;

    private int _running;

    /// <summary>Lookup allowances held now (0 when per-client limits are off).</summary>
    public int TrackedClients => _allowances?.Count ?? 0;

    /// <summary>Admits one lookup (then <see cref="Exit"/> once it is done) or says why not, and when to retry.</summary>
    public StatusLookupRefusal TryEnter(Guid signatureId, IPAddress? client, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!CouldHaveIssued(signatureId)) return StatusLookupRefusal.NeverIssued;
        // The place first, so a lookup turned away as busy spends none of its client's allowance.
        if (Interlocked.Increment(ref _running) > options.MaxConcurrent)
        {
            Exit();
            retryAfter = TimeSpan.FromSeconds(1);
            return StatusLookupRefusal.Busy;
        }

        if (_allowances is not null && client is not null)
        {
            (var taken, retryAfter) = _allowances.TryTake(Guid.Empty, client);
            if (!taken)
            {
                Exit();
                return StatusLookupRefusal.TooMany;
            }
        }
        return StatusLookupRefusal.None;
    }

    public void Exit() => Interlocked.Decrement(ref _running);

    private bool CouldHaveIssued(Guid id) =>
        SignatureIds.MintedAtUnixMs(id) is { } minted && minted <= (time.GetUtcNow() + ClockSkew).ToUnixTimeMilliseconds();
}
