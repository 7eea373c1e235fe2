using System.Globalization;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;

namespace Petition.LoadTests.Scenarios;

/// <summary>The scenarios that post single signatures, as campaign forms do.</summary>
internal static class SigningScenarios
{
    /// <summary>Requests allowed in flight at once: a second of the highest rate; past it, requests wait on the clock.</summary>
    private const int MaxInFlight = 20_000;

    public static async Task<ScenarioResult> SteadyAsync(Settings settings, TextWriter log, CancellationToken cancellationToken, string name = "steady")
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync(name, 1, cancellationToken);
        var profile = RateProfile.Constant(settings.Rate, settings.Duration);
        return await frame.RunAsync(name, $"A constant {settings.Rate:N0} new signers a second on one petition for {settings.Duration.TotalSeconds:F0} s (open model).",
            petitions, n => new Planned(0, n), Open(profile, settings, log, cancellationToken), _ => settings.Rate, settings.Rate, cancellationToken);
    }

    public const string RecoveryNote = "back under 1 s (intake and 202 to counted, p99) after the spike ended";

    /// <summary>A base rate, ten times that for 30 s (a celebrity shares the link), then the base rate again.</summary>
    public static async Task<ScenarioResult> SpikeAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("spike", 1, cancellationToken);
        var before = TimeSpan.FromSeconds(15);
        var spike = TimeSpan.FromSeconds(30);
        var after = TimeSpan.FromSeconds(Math.Max(20, settings.Duration.TotalSeconds));
        var profile = new RateProfile((before, settings.Rate), (spike, settings.Rate * 10), (after, settings.Rate));
        var result = await frame.RunAsync("spike",
            $"{settings.Rate:N0}/s for {before.TotalSeconds:F0} s, {settings.Rate * 10:N0}/s for {spike.TotalSeconds:F0} s, {settings.Rate:N0}/s for {after.TotalSeconds:F0} s, one petition.",
            petitions, n => new Planned(0, n), Open(profile, settings, log, cancellationToken), s => profile.RateAt(TimeSpan.FromSeconds(s + 0.5)),
            profile.Total / profile.Length.TotalSeconds, cancellationToken);

        // Recovered: from the first second after the spike on which, for requests due then, both the intake's
        // p99 and the 202-to-counted p99 stay under 1 s. A second whose requests were never sent or answered
        // (the generator still held them) is not recovered.
        var end = (int)(before + spike).TotalSeconds;
        var last = (int)profile.Length.TotalSeconds;
        var bySecond = result.Timeline.ToDictionary(s => s.Second);
        var bad = Enumerable.Range(end + 1, last - end)
            .LastOrDefault(s => !bySecond.TryGetValue(s, out var row) || row.Offered == 0 || row.Errors > 0 || row.IntakeP99 >= 1000 || row.LagP99 >= 1000);
        result.Notes[RecoveryNote] = bad == 0 ? "0 s" : bad == last ? "never, within the run" : $"{bad - end} s";
        result.Notes["errors during the spike"] = result.Timeline.Where(s => s.Second > before.TotalSeconds && s.Second <= end).Sum(s => s.Errors).ToString(CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>A share of signers signing again: double clicks, refreshes, bots; the same email and the email retyped in other case.</summary>
    public static async Task<ScenarioResult> DuplicatesAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("duplicates", 1, cancellationToken);
        var profile = RateProfile.Constant(settings.Rate, settings.Duration);
        // Three in ten requests (n % 10 < 3, from the thousandth on) repeat a signer first sent up to a
        // thousand requests before (one with n % 10 == 7); half of them retype the email.
        static Planned Plan(long n) => n >= 1000 && n % 10 < 3
            ? new Planned(0, n - (n % 10) - 3 - (10 * (n * 7919 % 97)), Retyped: n % 2 == 0)
            : new Planned(0, n);
        return await frame.RunAsync("duplicates",
            $"{settings.Rate:N0} signatures a second for {settings.Duration.TotalSeconds:F0} s, 30 % of them repeating an earlier signer (half with the email in other case and padded).",
            petitions, Plan, Open(profile, settings, log, cancellationToken), _ => settings.Rate, settings.Rate, cancellationToken);
    }

    /// <summary>Many petitions at once: one hot petition takes 80 % of the signatures, a hundred cold ones share the rest.</summary>
    public static async Task<ScenarioResult> PetitionsAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        const int cold = 100;
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("petitions", 1 + cold, cancellationToken);
        var profile = RateProfile.Constant(settings.Rate, settings.Duration);
        static Planned Plan(long n) => n % 5 != 0 ? new Planned(0, n) : new Planned(1 + (int)(n / 5 % cold), n);
        return await frame.RunAsync("petitions",
            $"{settings.Rate:N0} signatures a second for {settings.Duration.TotalSeconds:F0} s: 80 % on one hot petition, 20 % over {cold} cold ones.",
            petitions, Plan, Open(profile, settings, log, cancellationToken), _ => settings.Rate, settings.Rate, cancellationToken);
    }

    /// <summary>As fast as the intake takes them: every connection posts its next signature when the last is answered.</summary>
    public static async Task<ScenarioResult> MaxAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("max", 1, cancellationToken);
        return await frame.RunAsync("max",
            $"Closed loop: {settings.Connections} connections posting new signers back to back for {settings.Duration.TotalSeconds:F0} s.",
            petitions, n => new Planned(0, n), Closed(settings, cancellationToken), _ => 0, 0, cancellationToken);
    }

    public static SigningRun.Engine Open(RateProfile profile, Settings settings, TextWriter log, CancellationToken cancellationToken) =>
        (send, status) => new OpenLoop(profile, MaxInFlight, settings.Live ? log : null, status).RunAsync(send, cancellationToken);

    public static SigningRun.Engine Closed(Settings settings, CancellationToken cancellationToken) =>
        (send, _) => new ClosedLoop(settings.Connections, settings.Duration, (long)(100_000 * settings.Duration.TotalSeconds)).RunAsync(send, cancellationToken);
}
