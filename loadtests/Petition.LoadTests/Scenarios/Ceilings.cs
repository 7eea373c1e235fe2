using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Target;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>The two ceilings every figure is divided by: this machine's HTTP stack and PostgreSQL's COPY.</summary>
internal static class Ceilings
{
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
