using System.Diagnostics;

namespace Petition.Faults.Tests;

/// <summary>
/// SIGTERM, as an orchestrator stops a service for a deploy: the service drains what it holds (requests waiting
/// for their confirm, batches being written) and exits 0 within a bounded time; nothing 202'd is lost.
/// </summary>
public sealed class GracefulShutdownTests
{
    // The host's ShutdownTimeout is 30 s; a drain that needs more than that is not graceful.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Intake_on_SIGTERM_answers_the_requests_it_holds_and_exits()
    {
        await using var run = await FaultRun.StartAsync();
        run.System.StartWorker();
        var intake = await run.StartIntakeAsync();
        var client = new HttpClient { BaseAddress = intake.Url };
        var load = run.Sign(() => Volatile.Read(ref client));
        await run.WarmUpAsync(load);

        var exit = await TerminateAsync(intake);
        var replacement = await run.StartIntakeAsync();
        Volatile.Write(ref client, new HttpClient { BaseAddress = replacement.Url });

        await run.FinishAsync($"SIGTERM the intake (exited in {exit.TotalSeconds:0.0} s), then start another", load, Stopwatch.GetTimestamp());
        Assert.DoesNotContain("did not confirm", intake.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_on_SIGTERM_finishes_its_batches_and_exits_three_times_over()
    {
        await using var run = await FaultRun.StartAsync();
        var worker = run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);
        await run.WarmUpAsync(load);

        var slowest = TimeSpan.Zero;
        for (var stop = 0; stop < 3; stop++)
        {
            var exit = await TerminateAsync(worker);
            slowest = exit > slowest ? exit : slowest;
            // Ready (consuming) before the next SIGTERM: a worker stopped while still starting is another case.
            worker = run.System.StartWorker(listen: true);
            await worker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(2_000);
        }

        await run.FinishAsync($"SIGTERM a worker under load, 3 times (slowest exit {slowest.TotalSeconds:0.0} s)", load, Stopwatch.GetTimestamp());
    }

    [Fact]
    public async Task Worker_on_SIGTERM_while_PostgreSQL_is_down_gives_its_batches_back_and_exits_in_bounded_time()
    {
        await using var run = await FaultRun.StartAsync();
        var worker = run.System.StartWorker();
        var load = run.Sign(() => run.System.Client);
        await run.WarmUpAsync(load);

        var exit = TimeSpan.Zero;
        await FaultRun.OutageAsync("postgres", async () =>
        {
            // Batches now wait out the outage inside the consumer, unacked.
            await PetitionSystem.WaitUntilAsync(() => Task.FromResult(worker.Output.Contains("batch stays unacked", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the worker to hold a batch through the outage");
            exit = await TerminateAsync(worker);
        });

        run.System.StartWorker();
        await run.FinishAsync($"SIGTERM a worker holding batches while PostgreSQL is down (exited in {exit.TotalSeconds:0.0} s)", load, Stopwatch.GetTimestamp());
    }

    private static async Task<TimeSpan> TerminateAsync(ServiceProcess service)
    {
        var started = Stopwatch.GetTimestamp();
        await service.TerminateAsync();
        Assert.True(await service.WaitForExitAsync(Bound + TimeSpan.FromSeconds(5)), $"not stopped within {Bound}:\n{service.Output}");
        var took = Stopwatch.GetElapsedTime(started);
        Assert.True(took <= Bound, $"took {took} to stop");
        Assert.True(service.ExitCode == 0, $"exit code {service.ExitCode}:\n{service.Output}");
        return took;
    }
}
