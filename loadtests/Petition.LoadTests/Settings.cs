namespace Petition.LoadTests;

/// <summary>Command-line settings, with the local run's defaults. Targets must be loopback addresses.</summary>
internal sealed record Settings(Uri Intake, Uri Counter, string AdminKey, int Clients, int Rounds)
{
    public static Settings From(string[] args)
    {
        string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        var settings = new Settings(
            new Uri(Arg("--intake") ?? "http://127.0.0.1:5080"),
            new Uri(Arg("--counter") ?? "http://127.0.0.1:5082"),
            Arg("--admin-key") ?? Environment.GetEnvironmentVariable("PETITION_ADMIN_KEY") ?? throw new ArgumentException("--admin-key or PETITION_ADMIN_KEY is required"),
            int.Parse(Arg("--clients") ?? "10000", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Arg("--rounds") ?? "10", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var uri in new[] { settings.Intake, settings.Counter })
        {
            if (!uri.IsLoopback) throw new ArgumentException($"{uri} is not a loopback address: load is only ever sent to this machine.");
        }

        return settings;
    }
}
