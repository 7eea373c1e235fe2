using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Petition.Faults.Tests;

/// <summary>
/// The production broker topology: three RabbitMQ nodes (deploy/local/cluster.sh) and the signature queue a
/// quorum queue, replicated on all three. One node stops under load; the services fail over to the others.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private Dictionary<string, string> _settings = [];

    public async Task InitializeAsync()
    {
        await TestServers.ExclusiveAsync(); // three more Erlang VMs: not while other test processes run
        await ClusterAsync("start");
        _settings = ParseExports(await ClusterAsync("env"));
    }

    // The cluster takes three Erlang VMs of a two-core machine: stopped as soon as the test is done.
    public async Task DisposeAsync() => await ClusterAsync("stop");

    [Fact]
    public async Task Stopping_the_node_every_service_is_connected_to_loses_nothing_and_the_services_carry_on()
    {
        await using var run = await FaultRun.StartAsync(_settings);
        var workers = new[] { run.System.StartWorker(), run.System.StartWorker() };
        var load = run.Sign(() => run.System.Client);
        await run.WarmUpAsync(load);
        var queues = await RabbitMqCtlAsync("list_queues", "-p", "petition", "name", "type");
        Assert.Matches($@"(?m)^{run.System.Queue}\s+quorum$", queues);

        // A backlog for the node to take down with it, were the queue not replicated: no worker for two seconds.
        foreach (var worker in workers) worker.Kill();
        await Task.Delay(2_000);
        var depth = await RabbitMqCtlAsync("list_queues", "-p", "petition", "name", "messages");
        var leader = Regex.Match(await RabbitMqCtlAsync("list_queues", "-p", "petition", "name", "leader"), $@"(?m)^{run.System.Queue}\s+petition-(c\d)@").Groups[1].Value switch
        {
            "c1" => "the queue's leader",
            var other => "the leader was on " + other,
        };
        var waiting = int.Parse(Regex.Match(depth, $@"(?m)^{run.System.Queue}\s+(\d+)$").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(waiting > 0, "the queue should hold messages when the node stops");

        // Every client tries node 1 first, so it holds all their connections (and most likely the queue's leader).
        await ClusterAsync("stop-node", "1");
        var stopped = Stopwatch.GetTimestamp();
        run.System.StartWorker();
        run.System.StartWorker();
        await run.FinishAsync($"RabbitMQ cluster of 3, quorum queue: stop the node every service is connected to ({leader}), {waiting:N0} messages queued", load, stopped);
        // The node stays down: the fixture stops the cluster, and a later start brings all three back together.
    }

    private static async Task<string> ClusterAsync(params string[] arguments) => await TestServers.ScriptAsync("cluster.sh", arguments);

    private static async Task<string> RabbitMqCtlAsync(params string[] arguments) => await ClusterAsync(["ctl", "2", .. arguments]);

    // As settings: Name__Key becomes Name:Key.
    private static Dictionary<string, string> ParseExports(string exports) =>
        TestServers.ParseExports(exports).ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value);
}
