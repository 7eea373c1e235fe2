using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The forwarded-headers middleware, only when some proxy is trusted.</summary>
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        if (options.KnownIPNetworks.Count + options.KnownProxies.Count > 0) app.UseForwardedHeaders();
        return app;
    }
}
