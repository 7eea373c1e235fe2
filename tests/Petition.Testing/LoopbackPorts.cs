using System.Net;
using System.Net.Sockets;

namespace Petition.Testing;

/// <summary>
/// Ports for a service a test starts. Not port 0's pick: that comes from the ephemeral range, which every outgoing
/// connection draws from too, so in the moment between releasing it and the service binding it a client socket of a
/// busy run (a hostile test opens thousands) can take it, and the service dies on "address already in use" (a CI run
/// did). Below the ephemeral range no connect() lands by itself, and above 26000 none of the fixed ports of
/// deploy/local lie (servers 5433–6381, Erlang distribution 25672–25684, dashboards 18888/18898).
/// </summary>
public static class LoopbackPorts
{
    private const int Lowest = 26_000;
    private static readonly HashSet<int> Given = [];

    /// <summary>A port on 127.0.0.1 that is free now and was not handed out before in this process.</summary>
    public static int Free()
    {
        var highest = EphemeralLowest() - 1;
        lock (Given)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, highest + 1); // random, so parallel test processes rarely meet
                if (Given.Contains(port) || !Bindable(port)) continue;
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"No free port on 127.0.0.1 between {Lowest} and {highest}.");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralLowest()
    {
        const string Range = "/proc/sys/net/ipv4/ip_local_port_range"; // "32768	60999" on Debian
        if (File.Exists(Range) && int.TryParse(File.ReadAllText(Range).Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var lowest) && lowest > Lowest + 100)
            return lowest;
        return 32_768;
    }
}
