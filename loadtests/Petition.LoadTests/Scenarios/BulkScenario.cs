using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Target;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>Paper signatures typed in: imports of 10,000 rows through the batch endpoint.</summary>
internal static class BulkScenario
{
    private const int RowsPerImport = 10_000;

    /// <summary>Paper signatures typed in: imports of 10,000 rows through the batch endpoint, two at a time.</summary>
    public static async Task<ScenarioResult> RunAsync(Settings settings, TextWriter log, CancellationToken cancellationToken, int imports = 30)
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("bulk", 1, cancellationToken);
        // Made before the clock starts, so the generator's JSON writing is not in the measurement.
        var bodies = Enumerable.Range(0, imports).Select(i => Signers.Import(frame.RunTag, (long)i * RowsPerImport, RowsPerImport)).ToArray();
        var acceptedRows = new int[imports];
        async Task<Reply> Send(long n, CancellationToken token)
        {
            var (status, accepted) = await frame.Intake.ImportAsync(petitions[0], bodies[n], token);
            acceptedRows[n] = accepted;
            return Reply.Of(status);
        }

        SigningRun.Expected Expect(LoadRun run)
        {
            long unique = 0, unsure = 0;
            var first = new List<long>();
            for (var n = 0; n < run.Sent; n++)
            {
                if (run.Outcomes[n] == Outcome.Accepted)
                {
                    unique += acceptedRows[n];
                    first.AddRange(Enumerable.Repeat(run.AcceptedAt[n], acceptedRows[n]));
                }
                else
                {
                    unsure += RowsPerImport;
                }
            }

            return new SigningRun.Expected([new Expectation(petitions[0], unique, unsure)], [first], []);
        }

        return await frame.RunAsync("bulk", $"{imports} imports of {RowsPerImport:N0} signers (JSON), two in flight at a time, one petition.",
            petitions, Send, Expect, (send, _) => new ClosedLoop(2, TimeSpan.FromMinutes(5), imports).RunAsync(send, cancellationToken),
            _ => 0, 0, _ => acceptedRows.Sum(), cancellationToken);
    }
}
