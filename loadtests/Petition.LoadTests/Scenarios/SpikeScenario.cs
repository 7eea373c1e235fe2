using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;

namespace Petition.LoadTests.Scenarios;

/// <summary>
/// What a spike did: the worst second's p99 among requests due during it (from their due time, so time spent
/// unsent counts; null when a second went unanswered), the 202s a second answered during it, when latency came
/// back, and what was shed.
/// </summary>
internal sealed record SpikeFigures(double BaseRate, double PeakRate, double? WorstP99Ms, double GoodputPerSecond, int? RecoveredAfterSeconds, long Shed, long OtherErrors)
{
    public string Recovery => RecoveredAfterSeconds is { } s ? $"{s} s" : "never, within the run";
}

/// <summary>
/// A base rate, a peak for 30 s (a celebrity shares the link), then the base rate again, open loop. Every
/// visitor may hold a connection of its own (up to <see cref="Connections"/>), so the intake, not the
/// generator's pool, is where a backlog would wait, and its admission control is what must shed it.
/// </summary>
internal static class SpikeScenario
{
    /// <summary>Connections the generator may open: visitors each on their own, within a process's 20,000 files.</summary>
    public const int Connections = 15_000;

    public static readonly TimeSpan Before = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan Length = TimeSpan.FromSeconds(30);

    /// <summary><paramref name="peak"/> defaults to ten times the base rate (--rate).</summary>
    public static async Task<ScenarioResult> RunAsync(Settings settings, TextWriter log, CancellationToken cancellationToken, double? peak = null, string name = "spike")
    {
        var high = peak ?? settings.Rate * 10;
        settings = settings with { Connections = Math.Max(settings.Connections, Connections) };
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync(name, 1, cancellationToken);
        var after = TimeSpan.FromSeconds(Math.Max(20, settings.Duration.TotalSeconds));
        var profile = new RateProfile((Before, settings.Rate), (Length, high), (after, settings.Rate));
        var result = await frame.RunAsync(name,
            $"{settings.Rate:N0}/s for {Before.TotalSeconds:F0} s, {high:N0}/s for {Length.TotalSeconds:F0} s, {settings.Rate:N0}/s for {after.TotalSeconds:F0} s, one petition, open loop, up to {settings.Connections:N0} connections.",
            petitions, n => new Planned(0, n), SigningScenarios.Open(profile, settings, log, cancellationToken), s => profile.RateAt(TimeSpan.FromSeconds(s + 0.5)),
            profile.Total / profile.Length.TotalSeconds, cancellationToken);
        var figures = Figures(result, settings.Rate, high, (int)profile.Length.TotalSeconds);
        result.Notes["worst p99 of a second's requests during the spike (ms)"] = figures.WorstP99Ms?.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) ?? "a second went unanswered";
        result.Notes["202s a second during the spike"] = figures.GoodputPerSecond.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        result.Notes["back under 1 s (intake and 202 to counted p99, nothing shed) after the spike"] = figures.Recovery;
        return result with { Spike = figures };
    }

    /// <summary>Timeline rows are 1-based seconds; the spike covers rows Before+1 .. Before+Length.</summary>
    internal static SpikeFigures Figures(ScenarioResult result, double baseRate, double peak, int last)
    {
        var from = (int)Before.TotalSeconds + 1;
        var end = (int)(Before + Length).TotalSeconds;
        var bySecond = result.Timeline.ToDictionary(s => s.Second);
        var during = Enumerable.Range(from, end - from + 1).Select(s => bySecond.GetValueOrDefault(s)).ToList();
        // A second whose requests were never answered has no p99 of its own: it is as bad as the run is long.
        double? worst = during.Any(s => s is null || s.Answered == 0) ? null : during.Max(s => s!.IntakeP99);
        var goodput = during.Sum(s => s?.Accepted ?? 0) / Length.TotalSeconds;
        // Recovered: from the first second after the spike on which every later second of the profile has both p99s
        // under 1 s, nothing shed and no error. A second whose requests were never sent or answered is not recovered.
        var bad = Enumerable.Range(end + 1, last - end)
            .LastOrDefault(s => !bySecond.TryGetValue(s, out var row) || row.Offered == 0 || row.Errors > 0 || row.Shed > 0 || row.IntakeP99 >= 1000 || row.LagP99 >= 1000);
        int? recovered = bad == 0 ? 0 : bad == last ? null : bad - end;
        return new SpikeFigures(baseRate, peak, worst, goodput, recovered, result.Shed, result.ServerErrors + result.Failed);
    }
}
