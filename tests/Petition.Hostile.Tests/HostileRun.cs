using System.Diagnostics;
using System.Net.Http.Json;
using Dapper;

namespace Petition.Hostile.Tests;

/// <summary>
/// One attack's system: the real servers, a worker, and an intake and a counter as processes configured as
/// shipped (signing limits on). It measures what the attack leaves behind: each service's memory before and
/// after, its CPU in the quiet 10 s after, and the PostgreSQL transactions meanwhile; then writes the row.
/// </summary>
internal sealed class HostileRun : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    private HostileRun(PetitionSystem system) => System = system;

    public static string TablePath => Path.Combine(TestServers.RepoRoot, "artifacts", "hostile", "hostile.md");

    public PetitionSystem System { get; }

    public ServiceProcess Intake { get; private set; } = null!;

    public ServiceProcess Counter { get; private set; } = null!;

    public HttpClient IntakeClient { get; private set; } = null!;

    public HttpClient CounterClient { get; private set; } = null!;

    /// <summary>Starts the system; <paramref name="intake"/> and <paramref name="counter"/> add to the shipped settings.</summary>
    public static async Task<HostileRun> StartAsync(IReadOnlyDictionary<string, string>? intake = null, IReadOnlyDictionary<string, string>? counter = null)
    {
        // Measures memory and CPU, and may block the broker: alone on the machine.
        await TestServers.ExclusiveAsync();
        var run = new HostileRun(new PetitionSystem());
        await run.System.InitializeAsync();
        run.System.StartWorker();
        var shipped = new Dictionary<string, string> { ["RateLimits:Enabled"] = "true" };
        foreach (var (key, value) in intake ?? new Dictionary<string, string>()) shipped[key] = value;
        run.Intake = run.System.StartIntake(shipped);
        run.Counter = run.System.StartCounter(counter);
        await run.Intake.WaitUntilReadyAsync(Ready);
        await run.Counter.WaitUntilReadyAsync(Ready);
        run.IntakeClient = Client(run.Intake);
        run.CounterClient = Client(run.Counter);
        return run;
    }

    public static HttpClient Client(ServiceProcess service) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = service.Url,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>PostgreSQL transactions committed or rolled back in the test database so far (statistics lag by about a second).</summary>
    public static async Task<long> TransactionsAsync()
    {
        await using var db = TestServers.Connect(PetitionSystem.Database);
        return await db.QuerySingleAsync<long>(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()");
    }

    /// <summary>
    /// Runs the attack and measures it: memory before and after, the target's CPU over the 10 quiet seconds after
    /// it, PostgreSQL transactions from its start to 2 s after its end; writes the table's row and returns it.
    /// </summary>
    public async Task<HostileOutcome> MeasureAsync(string attack, ServiceProcess target, Func<Task<string>> attackAsync, long lost = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(attackAsync);
        await Task.Delay(2_000); // statistics and start-up work settle
        var rssBefore = target.Usage().RssMb;
        var transactionsBefore = await TransactionsAsync();
        var started = Stopwatch.StartNew();
        var volume = await attackAsync();
        var took = started.Elapsed;
        await Task.Delay(2_000);
        var transactions = await TransactionsAsync() - transactionsBefore - 1; // less our own reading
        var (rssAfter, cpuAtEnd) = target.Usage();
        await Task.Delay(10_000);
        var cpuAfter = target.Usage().CpuSeconds - cpuAtEnd;

        var outcome = new HostileOutcome(attack, volume, took, rssBefore, rssAfter, cpuAfter / 10, transactions, lost);
        await MarkdownTable.AppendAsync(TablePath,
            ["Attack", "Volume", "RSS before → after (MB)", "CPU in the 10 s after (cores)", "PostgreSQL transactions", "Signatures lost"],
            [false, false, true, true, true, true],
            [attack, $"{volume} in {took.TotalSeconds:0} s", $"{rssBefore:0} → {rssAfter:0}", $"{outcome.CpuAfter:0.000}", $"{transactions:N0}", $"{lost}"]);
        return outcome;
    }

    public async ValueTask DisposeAsync()
    {
        IntakeClient?.Dispose();
        CounterClient?.Dispose();
        await System.DisposeAsync();
    }
}

/// <summary>What an attack left: memory (MB), CPU afterwards (cores), PostgreSQL transactions, signatures lost.</summary>
internal sealed record HostileOutcome(
    string Attack, string Volume, TimeSpan Took, double RssBefore, double RssAfter, double CpuAfter, long Transactions, long Lost);
