using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Petition.ServiceDefaults;

/// <summary>
/// Who a client is, for limits: an IPv4 address whole, an IPv6 one by its /64 (the smallest network a
/// subscriber is given, so one home cannot be 2^64 clients). Hash it with <see cref="Comparer"/>.
/// </summary>
public readonly record struct ClientNetwork(ulong High, ulong Low)
{
    /// <summary>Hashes with the process's random seed (HashCode), so nobody can aim addresses at one bucket.</summary>
    public static readonly IEqualityComparer<ClientNetwork> Comparer = new SeededComparer();

    public static ClientNetwork Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        // Marked so an IPv4 address never equals an IPv6 network.
        return address.AddressFamily == AddressFamily.InterNetwork
            ? new ClientNetwork(0, (1UL << 32) | BinaryPrimitives.ReadUInt32BigEndian(bytes))
            : new ClientNetwork(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
    }

    /// <summary>For keys that hold a client network and more: a seeded hash of it.</summary>
    public int SeededHash() => HashCode.Combine(High, Low);

    private sealed class SeededComparer : IEqualityComparer<ClientNetwork>
    {
        public bool Equals(ClientNetwork x, ClientNetwork y) => x == y;

        public int GetHashCode(ClientNetwork network) => network.SeededHash();
    }
}

/// <summary>Proxies whose X-Forwarded-For names the client; from anyone else the header is ignored.</summary>
public static class TrustedProxies
{
    /// <summary>True when each is an address or a CIDR range without host bits.</summary>
    public static bool AreValid(IEnumerable<string> proxies) =>
        proxies.All(p => System.Net.IPNetwork.TryParse(p, out _) || IPAddress.TryParse(p, out _));

    public const string ValidationMessage = "each must be an address or a CIDR range without host bits (10.0.0.0/8, not 10.0.0.1/8).";

    /// <summary>Believes X-Forwarded-For from <paramref name="proxies"/> alone.</summary>
    public static void Configure(ForwardedHeadersOptions forwarded, IEnumerable<string> proxies)
    {
        ArgumentNullException.ThrowIfNull(forwarded);
        ArgumentNullException.ThrowIfNull(proxies);
        // With no proxy listed the middleware would believe every sender (empty lists mean "check nothing"), so
        // then it must not be added at all (UseTrustedProxies). ASP.NET Core's default loopback entries go too.
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var proxy in proxies)
        {
            if (System.Net.IPNetwork.TryParse(proxy, out var network)) forwarded.KnownIPNetworks.Add(network);
            else forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        }
    }

    /// <summary>
    /// The forwarded-headers middleware, only when some proxy is trusted; and a warning, at most every ten
    /// minutes, when X-Forwarded-For arrives from a peer that is not.
    /// </summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        var untrusted = new UntrustedForwarding(options, TimeProvider.System);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TrustedProxies));
        app.Use((context, next) =>
        {
            if (untrusted.ShouldWarn(context)) Log.UntrustedForwardedFor(logger);
            return next(context);
        });
        if (options.KnownIPNetworks.Count + options.KnownProxies.Count > 0) app.UseForwardedHeaders();
        return app;
    }
}

/// <summary>
/// Notices X-Forwarded-For from a peer no trusted proxy list names. Usually a load balancer left out of the
/// list: then every visitor shares its address, and so the per-client limits. A client forging the header
/// looks the same, so it only warns, seldom.
/// </summary>
public sealed class UntrustedForwarding(ForwardedHeadersOptions options, TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    private long _nextWarning = long.MinValue;

    /// <summary>True for the first such request in every ten minutes.</summary>
    public bool ShouldWarn(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Headers.ContainsKey(ForwardedHeadersDefaults.XForwardedForHeaderName)) return false;
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null || IsTrusted(peer)) return false;
        var now = time.GetTimestamp();
        var next = Volatile.Read(ref _nextWarning);
        return now >= next && Interlocked.CompareExchange(ref _nextWarning, now + (long)(Interval.TotalSeconds * time.TimestampFrequency), next) == next;
    }

    private bool IsTrusted(IPAddress peer)
    {
        if (peer.IsIPv4MappedToIPv6) peer = peer.MapToIPv4();
        return options.KnownProxies.Contains(peer) || options.KnownIPNetworks.Any(n => n.Contains(peer));
    }
}

internal static partial class Log
{
    // No address: it may be a client's, which is personal data.
    [LoggerMessage(EventId = 40, Level = LogLevel.Warning,
        Message = "X-Forwarded-For arrived from a peer that is not a trusted proxy and was ignored; if a load balancer is in front, list it in TrustedProxies, or every visitor shares its address and its limits")]
    public static partial void UntrustedForwardedFor(ILogger logger);
}
