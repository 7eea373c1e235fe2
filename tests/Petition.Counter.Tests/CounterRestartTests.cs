using System.Net;

namespace Petition.Counter.Tests;

public sealed class CounterRestartTests
{
    [Fact]
    public async Task A_counter_killed_mid_load_is_replaced_by_one_that_converges_to_count()
    {
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        system.StartWorker();
        var counter = system.StartCounter();
        await counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var petition = await system.CreatePetitionAsync();
        var load = SteadyLoad.Start(system, petition, lanes: 4);

        await Task.Delay(1_500);
        counter.Kill();
        await Task.Delay(1_000); // events published now reach no counter at all
        var replacement = system.StartCounter();
        await replacement.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(1_000);
        await load.StopAsync();
        var posted = load.Posted;

        await PetitionSystem.AssertStoredExactlyAsync(petition, posted.Count);
        using var client = LiveCount.Client(replacement);
        // Within a second of the last commit, through events alone (reconciliation runs every 10 s).
        await PetitionSystem.WaitUntilAsync(async () => (await LiveCount.GetAsync(client, petition)).GetProperty("total").GetInt64() == posted.Count,
            TimeSpan.FromSeconds(2), $"the new counter to show {posted.Count}");
    }
}
