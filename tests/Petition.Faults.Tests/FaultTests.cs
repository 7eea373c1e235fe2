using System.Diagnostics;

// The faults stop shared servers and load two cores: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Petition.Faults.Tests;

/// <summary>
/// Each fault strikes while signatures arrive steadily; signers answered 503 or cut off retry, as people do.
/// At the end every 202 must be stored exactly once, and PostgreSQL's totals and the counter equal COUNT(*).
/// </summary>
public sealed class FaultTests
{
    private const int Lanes = 8;

    [Fact]
    public async Task Worker_killed_mid_batch_repeatedly_and_restarted()
    {
        await using var run = await FaultRun.StartAsync();
        var worker = run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);

        for (var kill = 0; kill < 6; kill++)
        {
            await Task.Delay(Random.Shared.Next(700, 1_500));
            worker.Kill(); // SIGKILL while batches are in flight, unacked
            worker = run.System.StartWorker();
        }

        await run.FinishAsync("`kill -9` a worker mid-batch, 6 times, restarting it", load, Stopwatch.GetTimestamp());
    }

    [Fact]
    public async Task RabbitMQ_restarted_under_load_the_intake_answers_503_then_recovers_by_itself()
    {
        await using var run = await FaultRun.StartAsync();
        run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);
        await run.WarmUpAsync(load);

        var down = await FaultRun.OutageAsync("rabbitmq", () => Task.Delay(3_000));

        await run.FinishAsync($"Restart RabbitMQ (stop, start: {down.TotalSeconds:0} s)", load, Stopwatch.GetTimestamp());
        Assert.True(load.Refused > 0, "no signer was told 503 while the broker was down");
    }

    [Fact]
    public async Task Redis_stopped_for_30_seconds_workers_deduplicate_in_postgres_alone()
    {
        await using var run = await FaultRun.StartAsync();
        var worker = run.System.StartWorker();
        var load = run.Sign(() => run.System.Client, repeatEvery: 4);
        await run.WarmUpAsync(load);

        StoredCounts before = null!;
        var down = await FaultRun.OutageAsync("redis", async () =>
        {
            before = await PetitionSystem.CountsAsync(run.Petition);
            await Task.Delay(30_000);
        });

        var during = await PetitionSystem.CountsAsync(run.Petition);
        var storedDuring = during.Rows - before.Rows;
        await run.FinishAsync($"Stop Redis ({down.TotalSeconds:0} s)", load, Stopwatch.GetTimestamp());
        Assert.True(storedDuring > 1_000, $"only {storedDuring} signatures were stored while Redis was down");
        Assert.True(during.Duplicates > before.Duplicates, "repeats arriving while Redis was down should have been recorded as duplicates");
        Assert.Contains("deduplicating through PostgreSQL alone", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgreSQL_restarted_under_load_messages_wait_unacked()
    {
        await using var run = await FaultRun.StartAsync();
        var worker = run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);
        // The outage must find the worker running with batches to write, not still migrating at start-up.
        await run.WarmUpAsync(load);

        var down = await FaultRun.OutageAsync("postgres", () => Task.Delay(5_000));

        await run.FinishAsync($"Restart PostgreSQL (stop, start: {down.TotalSeconds:0} s)", load, Stopwatch.GetTimestamp());
        Assert.Contains("batch stays unacked", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intake_killed_with_requests_in_flight_every_202_is_stored()
    {
        await using var run = await FaultRun.StartAsync();
        run.System.StartWorker();
        var intake = await run.StartIntakeAsync();
        var client = Client(intake);
        var load = run.Sign(() => Volatile.Read(ref client));
        await run.WarmUpAsync(load);

        intake.Kill(); // with up to 8 requests in flight: some published and confirmed, never answered
        var replacement = await run.StartIntakeAsync();
        Volatile.Write(ref client, Client(replacement));

        await run.FinishAsync("`kill -9` the intake with requests in flight, then start another", load, Stopwatch.GetTimestamp());
        Assert.True(load.CutOff > 0, "no request was cut off by the kill");
    }

    [Fact]
    public async Task Counter_killed_a_new_one_converges_to_count()
    {
        await using var run = await FaultRun.StartAsync();
        run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);
        await run.WarmUpAsync(load);

        run.Counter.Kill();
        var killed = Stopwatch.GetTimestamp();
        await Task.Delay(1_000); // totals published now reach no counter at all
        await run.ReplaceCounterAsync();
        var recovery = Stopwatch.GetElapsedTime(killed);

        await run.FinishAsync("`kill -9` the counter, then start another", load, recovery);
    }

    [Fact]
    public async Task Two_intakes_and_three_workers_compete_and_one_worker_is_killed()
    {
        await using var run = await FaultRun.StartAsync();
        var workers = Enumerable.Range(0, 3).Select(_ => run.System.StartWorker()).ToList();
        var intakes = new[] { await run.StartIntakeAsync(), await run.StartIntakeAsync() };
        var clients = intakes.Select(Client).ToArray();
        var next = 0;
        var load = run.Sign(() => clients[(Interlocked.Increment(ref next) & int.MaxValue) % clients.Length], lanes: 12);
        await run.WarmUpAsync(load);

        workers[1].Kill(); // the other two take over its unacked batches
        await run.FinishAsync("Two intakes and three workers; `kill -9` one worker", load, Stopwatch.GetTimestamp());
        Assert.False(workers[0].HasExited || workers[2].HasExited, "the other workers should have carried on");
    }

    private static HttpClient Client(ServiceProcess intake) => new() { BaseAddress = intake.Url };
}
