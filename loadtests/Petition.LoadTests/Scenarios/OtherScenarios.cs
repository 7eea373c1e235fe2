using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Target;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>Bulk imports, malformed input, and the two ceilings every figure is divided by.</summary>
internal static class OtherScenarios
{
    private const int RowsPerImport = 10_000;

    /// <summary>Paper signatures typed in: imports of 10,000 rows through the batch endpoint, two at a time.</summary>
    public static async Task<ScenarioResult> BulkAsync(Settings settings, TextWriter log, CancellationToken cancellationToken, int imports = 30)
    {
        await using var frame = new SigningRun(settings, log);
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

    /// <summary>Malformed bodies at a steady rate: every answer must be a 4xx problem+json, none a 5xx, and nothing stored.</summary>
    public static async Task<ScenarioResult> BadInputAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        await using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("bad-input", 1, cancellationToken);
        var cases = MalformedBodies();
        long notProblemJson = 0;
        async Task<Reply> Send(long n, CancellationToken token)
        {
            var (_, body, contentType, otherPetition) = cases[(int)(n % cases.Count)];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            var url = new Uri(settings.Intake, $"/api/petitions/{(otherPetition ? Guid.NewGuid() : petitions[0])}/signatures");
            using var response = await frame.Intake.Http.PostAsync(url, content, token);
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") Interlocked.Increment(ref notProblemJson);
            return Reply.Of((int)response.StatusCode);
        }

        var profile = RateProfile.Constant(settings.Rate, settings.Duration);
        var result = await frame.RunAsync("bad-input",
            $"{settings.Rate:N0} malformed requests a second for {settings.Duration.TotalSeconds:F0} s, cycling through {cases.Count} kinds: {string.Join(", ", cases.Select(c => c.Name))}.",
            petitions, Send, _ => new SigningRun.Expected([new Expectation(petitions[0], 0)], [[]], []),
            SigningScenarios.Open(profile, settings, log, cancellationToken), _ => settings.Rate, settings.Rate, null, cancellationToken);

        var findings = result.Verdict.Findings.ToList();
        if (result.Accepted > 0) findings.Add($"{result.Accepted} malformed requests were answered 202");
        if (result.Failed > 0) findings.Add($"{result.Failed} malformed requests got no answer");
        if (notProblemJson > 0) findings.Add($"{notProblemJson} answers were not application/problem+json");
        result.Notes["kinds of malformed request"] = cases.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return result with { Verdict = result.Verdict with { Passed = findings.Count == 0, Findings = findings } };
    }

    private static List<(string Name, byte[] Body, string ContentType, bool OtherPetition)> MalformedBodies()
    {
        const string json = "application/json";
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        var ok = """{"name":"Ana Müller","email":"ana@example.org","country":"DE"}""";
        return
        [
            ("not JSON", U("name=Ana&email=ana@example.org"), json, false),
            ("truncated JSON", U(ok[..20]), json, false),
            ("empty body", [], json, false),
            ("an array", U($"[{ok}]"), json, false),
            ("a number for the name", U("""{"name":42,"email":"ana@example.org","country":"DE"}"""), json, false),
            ("fields missing", U("""{"name":"Ana"}"""), json, false),
            ("nulls", U("""{"name":null,"email":null,"country":null}"""), json, false),
            ("email without @", U("""{"name":"Ana","email":"ana.example.org","country":"DE"}"""), json, false),
            ("unknown country", U("""{"name":"Ana","email":"ana@example.org","country":"QQ"}"""), json, false),
            ("control character in the name", U("""{"name":"Ana\u0007","email":"ana@example.org","country":"DE"}"""), json, false),
            ("name of 10,000 letters", U($$"""{"name":"{{new string('a', 10_000)}}","email":"ana@example.org","country":"DE"}"""), json, false),
            ("body of 64 KB", U($$"""{"name":"Ana","email":"ana@example.org","country":"DE","x":"{{new string('x', 64 * 1024)}}"}"""), json, false),
            ("JSON nested 200 deep", U(new string('[', 200) + new string(']', 200)), json, false),
            ("invalid UTF-8", [.. U("""{"name":"Ana"""), 0xC3, 0x28, .. U(""" ","email":"ana@example.org","country":"DE"}""")], json, false),
            ("lone surrogate", U("""{"name":"\ud800","email":"ana@example.org","country":"DE"}"""), json, false),
            ("text/plain", U(ok), "text/plain", false),
            ("unknown petition", U(ok), json, true),
        ];
    }

    /// <summary>The HTTP ceiling: the trivial server (loadtests/Petition.Ceiling) under the same closed loop as the intake's max.</summary>
    public static async Task<ScenarioResult> HttpCeilingAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var ceiling = settings.Ceiling ?? throw new ArgumentException("--ceiling URL of the ceiling server is required");
        using var client = new IntakeClient(ceiling, settings.AdminKey, settings.Connections);
        var run = Guid.NewGuid().ToString("N")[..10];
        log.WriteLine($"[http-ceiling] {settings.Connections} connections against {ceiling} for {settings.Duration.TotalSeconds:F0} s");
        await using var meter = Measuring.ProcessMeter.Start();
        var petition = Guid.NewGuid();
        var result = await SigningScenarios.Closed(settings, cancellationToken)((n, token) => client.SignAsync(petition, Signers.Body(run, n), token), () => Task.FromResult(""));
        var verdict = new Verdict(result.Count(Outcome.Accepted) == result.Sent, 0, 0, 0, 0, TimeSpan.Zero, []);
        return SigningRun.Result("http-ceiling",
            "A trivial server that parses the same JSON and answers 202 at once: the most this machine's HTTP stack and load generator can do.",
            result, verdict, meter.Read(), null, TimeSpan.Zero, [], 0);
    }

    /// <summary>The storage ceiling: PostgreSQL's binary COPY rate into a logged table shaped like signatures (same indexes).</summary>
    public static async Task<ScenarioResult> CopyCeilingAsync(Settings settings, TextWriter log, CancellationToken cancellationToken, int rows = 500_000)
    {
        await using var db = new NpgsqlConnection(settings.Postgres);
        await db.OpenAsync(cancellationToken);
        var table = $"copy_ceiling_{Guid.NewGuid():N}";
        await Execute($"CREATE TABLE {table} (LIKE signatures INCLUDING ALL)");
        try
        {
            log.WriteLine($"[copy-ceiling] binary COPY of {rows:N0} rows into a table like signatures");
            var petition = Guid.NewGuid();
            var started = Stopwatch.GetTimestamp();
            await using (var import = await db.BeginBinaryImportAsync(
                $"COPY {table} (signature_id, petition_id, dedup_key, name, country, postal_code, source, submitted_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                var key = new byte[32];
                for (var i = 0; i < rows; i++)
                {
                    BitConverter.TryWriteBytes(key, i);
                    BitConverter.TryWriteBytes(key.AsSpan(8), Environment.TickCount64);
                    await import.StartRowAsync(cancellationToken);
                    await import.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, cancellationToken);
                    await import.WriteAsync(petition, NpgsqlDbType.Uuid, cancellationToken);
                    await import.WriteAsync(key, NpgsqlDbType.Bytea, cancellationToken);
                    await import.WriteAsync("Ana Müller", NpgsqlDbType.Text, cancellationToken);
                    await import.WriteAsync(Signers.Country(i), NpgsqlDbType.Text, cancellationToken);
                    await import.WriteAsync("10115", NpgsqlDbType.Text, cancellationToken);
                    await import.WriteAsync("online", NpgsqlDbType.Text, cancellationToken);
                    await import.WriteAsync(DateTimeOffset.UtcNow, NpgsqlDbType.TimestampTz, cancellationToken);
                }

                await import.CompleteAsync(cancellationToken);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            var run = new LoadRun(0, 1, started) { Elapsed = elapsed };
            var result = SigningRun.Result("copy-ceiling", $"Binary COPY of {rows:N0} signature rows into a logged table with the signatures table's indexes, in one transaction.",
                run, new Verdict(true, rows, rows, 0, 0, TimeSpan.Zero, []), [], null, elapsed, [], 0);
            return result with { StoredPerSecond = rows / elapsed.TotalSeconds };
        }
        finally
        {
            await Execute($"DROP TABLE IF EXISTS {table}");
        }

        async Task Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, db);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
