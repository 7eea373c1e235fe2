using Petition.LoadTests.Reporting;
using Petition.LoadTests.Scenarios;
using Petition.LoadTests.Verification;
using Petition.Testing;

namespace Petition.LoadTests.Tests;

/// <summary>
/// The load scenarios, short, against real intake, worker and counter processes on the test servers: the
/// CI smoke run of loadtests/. Each must end with its verification passed: every 202 stored, rows equal to
/// the unique signers, totals equal to COUNT(*).
/// </summary>
public sealed class ScenarioSmokeTests(ScenarioSmokeTests.LoadSystem system) : IClassFixture<ScenarioSmokeTests.LoadSystem>
{
    public sealed class LoadSystem : PetitionSystem
    {
        public ServiceProcess IntakeProcess { get; private set; } = null!;

        public ServiceProcess CounterProcess { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            StartWorker();
            IntakeProcess = StartIntake();
            CounterProcess = StartCounter(new Dictionary<string, string> { ["Counter:MaxStreamsPerClient"] = "100000" }); // every watcher from here
            StartMailer(); // for the confirmation scenario, through the tests' Postfix
            await IntakeProcess.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            await CounterProcess.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        }

        internal Settings For(double rate, double seconds) => new(
            IntakeProcess.Url!, CounterProcess.Url!, null,
            new Uri($"http://127.0.0.1:{int.Parse(Environment.GetEnvironmentVariable("PETITION_AMQP_PORT") ?? "5674", System.Globalization.CultureInfo.InvariantCulture) + 10019}/metrics/detailed?family=queue_coarse_metrics"),
            TestServers.AdminKey, Settings["ConnectionStrings:Postgres"], Queue, rate, TimeSpan.FromSeconds(seconds), 64, 50, 3,
            Path.Combine(Path.GetTempPath(), $"petition-loadtests-{Guid.NewGuid():N}"), Live: false);
    }

    private static void AssertPassed(ScenarioResult result)
    {
        Assert.True(result.Passed, $"{result.Scenario}: {string.Join("; ", result.Verdict.Findings)}");
        Assert.Equal(0, result.Verdict.Missing202s);
        Assert.Equal(result.Verdict.Stored, result.Verdict.CounterTotal);
    }

    [Fact]
    public async Task The_confirmation_scenario_mails_every_signer_once_and_counts_each_confirmed_signature_once()
    {
        var result = await ConfirmationScenario.RunAsync(system.For(rate: 500, seconds: 5), LocalMailbox.Folder, TextWriter.Null, CancellationToken.None, signers: 200);

        Assert.True(result.Passed, string.Join("; ", result.Findings));
        Assert.Equal((200, 200, 200L, 0L), (result.Signed, result.Mailed, result.Total, result.Pending));
        Assert.True(result.MailsPerSecond > 0 && result.ConfirmPostsPerSecond > 0 && result.ConfirmedPerSecond > 0, result.ToString());
    }

    [Fact]
    public async Task Steady_load_is_all_stored_and_counted_and_reported()
    {
        var settings = system.For(rate: 500, seconds: 8);
        var result = await SigningScenarios.SteadyAsync(settings, TextWriter.Null, CancellationToken.None);

        AssertPassed(result);
        Assert.Equal(4000, result.Requests);
        Assert.Equal(4000, result.Accepted);
        Assert.Equal(4000, result.Verdict.Stored);
        Assert.NotNull(result.Lag);
        Assert.Equal(4000, result.Lag.Count);
        Assert.InRange(result.Timeline.Count, 8, 12);

        var stem = Report.Write(result, settings.Output);
        Assert.Contains("# steady: passed", await File.ReadAllTextAsync(stem + ".md"), StringComparison.Ordinal);
        Assert.StartsWith("<svg", await File.ReadAllTextAsync(stem + ".svg"), StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(stem + ".json"));
        Assert.Equal(4000, json.RootElement.GetProperty("Accepted").GetInt64());
    }

    [Fact]
    public async Task Repeated_signers_are_stored_once_and_every_repeat_is_recorded_as_a_duplicate()
    {
        var result = await SigningScenarios.DuplicatesAsync(system.For(rate: 500, seconds: 6), TextWriter.Null, CancellationToken.None);

        AssertPassed(result);
        Assert.Equal(3000, result.Accepted);
        // Requests 1000..2999 with n % 10 < 3 (600 of them) repeat a signer sent earlier.
        Assert.Equal(2400, result.Verdict.Stored);
    }

    [Fact]
    public async Task Hot_and_cold_petitions_each_end_exact()
    {
        var result = await SigningScenarios.PetitionsAsync(system.For(rate: 500, seconds: 5), TextWriter.Null, CancellationToken.None);

        AssertPassed(result);
        Assert.Equal(2500, result.Verdict.Stored);
    }

    [Fact]
    public async Task Bulk_imports_are_stored_whole()
    {
        var result = await BulkScenario.RunAsync(system.For(rate: 0, seconds: 0), TextWriter.Null, CancellationToken.None, imports: 3);

        AssertPassed(result);
        Assert.Equal(30_000, result.Verdict.Stored);
    }

    [Fact]
    public async Task Malformed_requests_all_get_a_4xx_problem_and_nothing_is_stored()
    {
        var result = await BadInputScenario.RunAsync(system.For(rate: 300, seconds: 3), TextWriter.Null, CancellationToken.None);

        AssertPassed(result);
        Assert.Equal(900, result.Refused);
        Assert.Equal(0, result.Verdict.Stored);
    }

    [Fact]
    public async Task The_verifier_fails_a_run_whose_accepted_signature_is_not_stored()
    {
        // The check must be able to fail: a 202'd id that is in neither table, and a signer too few.
        var settings = system.For(rate: 1, seconds: 1);
        using var http = new HttpClient();
        var verdict = await PipelineVerifier.VerifyAsync(settings.Postgres, http, settings.Counter,
            [new Expectation(Guid.NewGuid(), UniqueAccepted: 1)], [Guid.NewGuid()], TimeSpan.FromSeconds(2), TextWriter.Null);

        Assert.False(verdict.Passed);
        Assert.Equal(1, verdict.Missing202s);
        Assert.Contains(verdict.Findings, f => f.Contains("0 stored, but 1 unique signers were accepted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_verifier_fails_a_run_that_stored_a_signature_twice_over()
    {
        // A row nobody was answered 202 for, with no totals moved, whose id is also recorded as a duplicate.
        var settings = system.For(rate: 1, seconds: 1);
        var petition = Guid.NewGuid();
        var signature = Guid.NewGuid();
        await using (var db = TestServers.Connect(PetitionSystem.Database))
        {
            await db.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand("""
                INSERT INTO signatures (signature_id, petition_id, dedup_key, name, country, source, submitted_at)
                VALUES (@signature, @petition, '\x01', 'Extra Row', 'GB', 'online', now());
                INSERT INTO signature_duplicates (signature_id, petition_id) VALUES (@signature, @petition);
                """, db);
            insert.Parameters.AddWithValue("signature", signature);
            insert.Parameters.AddWithValue("petition", petition);
            await insert.ExecuteNonQueryAsync();
        }

        using var http = new HttpClient();
        var verdict = await PipelineVerifier.VerifyAsync(settings.Postgres, http, settings.Counter,
            [new Expectation(petition, UniqueAccepted: 0)], [signature], TimeSpan.FromSeconds(2), TextWriter.Null);

        Assert.False(verdict.Passed);
        Assert.Contains(verdict.Findings, f => f.Contains("1 stored, more than the 0 accepted", StringComparison.Ordinal));
        Assert.Contains(verdict.Findings, f => f.Contains("total 0, COUNT(*) of counted signatures 1", StringComparison.Ordinal));
        Assert.Contains(verdict.Findings, f => f.Contains("per-country totals add up to 0", StringComparison.Ordinal));
        Assert.Contains(verdict.Findings, f => f.Contains("stored and also recorded as duplicates", StringComparison.Ordinal));
        Assert.Contains(verdict.Findings, f => f.Contains("the counter shows", StringComparison.Ordinal));
    }
}
