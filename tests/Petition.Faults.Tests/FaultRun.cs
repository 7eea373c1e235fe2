using System.Diagnostics;

namespace Petition.Faults.Tests;

/// <summary>One fault test's system: the real servers, a counter process, one petition, and the audit at the end.</summary>
internal sealed class FaultRun : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    private int _lanes;

    private FaultRun(PetitionSystem system) => System = system;

    public PetitionSystem System { get; }

    public Guid Petition { get; private set; }

    public ServiceProcess Counter { get; private set; } = null!;

    public static async Task<FaultRun> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        // Every fault test stops a server or loads both cores: it waits until no other test process uses the servers.
        await TestServers.ExclusiveAsync();
        var run = new FaultRun(settings is null ? new PetitionSystem() : PetitionSystem.With(settings));
        await run.System.InitializeAsync();
        await run.ReplaceCounterAsync();
        run.Petition = await run.System.CreatePetitionAsync();
        return run;
    }

    /// <summary>Signers through faults: one in <paramref name="repeatEvery"/> signs twice, typed differently.</summary>
    public SteadyLoad Sign(Func<HttpClient> target, int lanes = 8, int repeatEvery = 10)
    {
        _lanes = lanes;
        return SteadyLoad.StartThroughFaults(target, Petition, lanes, repeatEvery);
    }

    /// <summary>Lets the pipeline settle, so the fault finds workers storing batches, not starting up.</summary>
    public async Task WarmUpAsync(SteadyLoad load)
    {
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(Petition)).Rows > 0, Ready, "the first stored signatures");
        await Task.Delay(1_500);
        Assert.NotEmpty(load.AcceptedIds);
    }

    public async Task<ServiceProcess> StartIntakeAsync()
    {
        var intake = System.StartIntake();
        await intake.WaitUntilReadyAsync(Ready);
        return intake;
    }

    public async Task ReplaceCounterAsync()
    {
        Counter = System.StartCounter();
        await Counter.WaitUntilReadyAsync(Ready);
    }

    /// <summary>Stops a server (servers.sh), runs <paramref name="whileDown"/>, starts it again whatever happened; returns stop to start.</summary>
    public static async Task<TimeSpan> OutageAsync(string server, Func<Task> whileDown)
    {
        var down = Stopwatch.StartNew();
        await TestServers.ServersAsync("stop", server);
        try
        {
            await whileDown();
        }
        finally
        {
            await TestServers.ServersAsync("start", server);
        }

        return down.Elapsed;
    }

    /// <summary>Measures recovery from <paramref name="faultEnded"/> (a Stopwatch timestamp), then stops the load and audits.</summary>
    public async Task<FaultOutcome> FinishAsync(string fault, SteadyLoad load, long faultEnded) =>
        await FinishAsync(fault, load, await load.RecoveryAsync(faultEnded, TimeSpan.FromSeconds(120)));

    public async Task<FaultOutcome> FinishAsync(string fault, SteadyLoad load, TimeSpan recovery)
    {
        await Task.Delay(1_000); // signing goes on after the recovery, so late totals events are exercised too
        await load.StopAsync();
        var described = $"{_lanes} signers at a time, {load.AcceptedPerSecond:N0} 202s/s; {load.Refused:N0} 503s, {load.CutOff:N0} cut off";
        return await FaultAudit.VerifyAsync(fault, described, Petition, load, recovery, Counter.Url);
    }

    public async ValueTask DisposeAsync() => await System.DisposeAsync();
}
