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
