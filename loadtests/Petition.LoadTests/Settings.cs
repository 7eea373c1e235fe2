using System.Globalization;

namespace Petition.LoadTests;

/// <summary>
/// Command-line settings, with the local run's defaults (deploy/local/up.sh). Every target must be a
/// loopback address: load is only ever sent to this machine.
/// </summary>
internal sealed record Settings(
    Uri Intake, Uri Counter, Uri? Ceiling, Uri QueueMetrics, string AdminKey, string Postgres, string Queue,
    double Rate, TimeSpan Duration, int Connections, int Clients, int Rounds, string Output, bool Live)
{
    public static Settings From(string[] args)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        double Number(string name, double fallback) => Arg(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var settings = new Settings(
            new Uri(Arg("--intake") ?? "http://127.0.0.1:5080"),
            new Uri(Arg("--counter") ?? "http://127.0.0.1:5082"),
            Arg("--ceiling") is { } ceiling ? new Uri(ceiling) : null,
            new Uri(Arg("--queue-metrics") ?? "http://127.0.0.1:15692/metrics/detailed?family=queue_coarse_metrics"),
            Arg("--admin-key") ?? Environment.GetEnvironmentVariable("Petition__AdminApiKey") ?? Environment.GetEnvironmentVariable("PETITION_ADMIN_KEY")
                ?? throw new ArgumentException("--admin-key or PETITION_ADMIN_KEY is required"),
            Arg("--postgres") ?? Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                ?? throw new ArgumentException("--postgres or ConnectionStrings__Postgres is required (eval \"$(deploy/local/servers.sh env)\")"),
            Arg("--queue") ?? "store-signatures",
            Number("--rate", 2_000),
            TimeSpan.FromSeconds(Number("--duration", 20)),
            (int)Number("--connections", 256),
            (int)Number("--clients", 10_000),
            (int)Number("--rounds", 10),
            Arg("--out") ?? Path.Combine("artifacts", "loadtests"),
            !args.Contains("--quiet"));
        foreach (var uri in new[] { settings.Intake, settings.Counter, settings.Ceiling, settings.QueueMetrics })
        {
            if (uri is { IsLoopback: false }) throw new ArgumentException($"{uri} is not a loopback address: load is only ever sent to this machine.");
        }

        if (settings.Duration > TimeSpan.FromMinutes(10)) throw new ArgumentException("--duration is bounded to 10 minutes.");
        return settings;
    }
}
