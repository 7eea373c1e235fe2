using Npgsql;

namespace Petition.Testing;

/// <summary>
/// The real servers the tests use (PostgreSQL, Redis, RabbitMQ, and Postfix for mail: see <see cref="LocalMailbox"/>). With ConnectionStrings__Postgres (and __Redis, __RabbitMq, Petition__AdminApiKey,
/// Petition__DedupSecret, Petition__ContactEmailKey) in the environment, those; without, the first test that needs
/// them starts the test servers through deploy/local/servers.sh and takes the same settings from its `env`, so
/// `dotnet test` works from an IDE or a plain shell. The test servers live under .data/test on ports of their own
/// (PETITION_DATA and PETITION_*_PORT, test.sh's defaults), never the local run's: tests stop and start them.
/// </summary>
public static class TestServers
{
    // What servers.sh, dashboard.sh and cluster.sh read: set in this process, so the scripts the tests run later
    // (a server stopped, the dashboard started) act on these servers too.
    private static readonly (string Name, string Value)[] Defaults =
    [
        ("PETITION_PG_PORT", "5434"),
        ("PETITION_REDIS_PORT", "6381"),
        ("PETITION_AMQP_PORT", "5674"),
        ("PETITION_DASHBOARD_PORT", "18898"),
        ("PETITION_SMTP_PORT", "2526"),
    ];

    // On the thread pool: its continuations must not need the test framework's threads, which may all be blocked here.
    private static readonly Lazy<Task> Started = new(() => Task.Run(StartAsync));

    public static string Postgres => Required("ConnectionStrings__Postgres");

    public static string Redis => Required("ConnectionStrings__Redis");

    public static string RabbitMq => Required("ConnectionStrings__RabbitMq");

    public static string AdminKey => Required("Petition__AdminApiKey");

    public static string DedupSecret => Required("Petition__DedupSecret");

    /// <summary>Where the test servers keep their data (PETITION_DATA; .data/test by default).</summary>
    public static string DataFolder
    {
        get
        {
            EnsureStarted();
            return Environment.GetEnvironmentVariable("PETITION_DATA")!;
        }
    }

    /// <summary>Starts the test servers unless the environment names servers, once per process; see the class.</summary>
    public static void EnsureStarted() => Started.Value.GetAwaiter().GetResult();

    /// <summary>
    /// For a test that stops servers: waits until no other test process uses them, and keeps them to this process
    /// until it ends (see <see cref="ServerLease"/>). Call it before starting anything the test measures.
    /// </summary>
    public static async Task ExclusiveAsync()
    {
        await Started.Value;
        await Task.Run(() => ServerLease.Exclusive(Path.Combine(DataFolder, "servers.lease")));
    }

    /// <summary>An unpooled connection for the tests' own queries: a pooled one goes stale when a test restarts the server.</summary>
    public static NpgsqlConnection Connect(string database) =>
        new(new NpgsqlConnectionStringBuilder(PostgresDatabase(database)) { Pooling = false }.ConnectionString);

    /// <summary>The same server with another database.</summary>
    public static string PostgresDatabase(string database) =>
        new NpgsqlConnectionStringBuilder(Postgres) { Database = database }.ConnectionString;

    /// <summary>Creates the database if missing (several test assemblies may race to do it).</summary>
    public static async Task EnsureDatabaseAsync(string database)
    {
        await using var connection = Connect("postgres");
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync() is not null) return;
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState is "42P04" or "23505")
        {
            // Created meanwhile by another test assembly.
        }
    }

    /// <summary>The repository root (where Petition.sln is).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Petition.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("Petition.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Stops or starts one server through deploy/local/servers.sh (e.g. "stop", "rabbitmq").</summary>
    public static async Task ServersAsync(params string[] arguments) => await ScriptAsync("servers.sh", arguments);

    /// <summary>Runs one of deploy/local's scripts, on the test servers' settings, and returns what it printed; throws if it fails.</summary>
    public static async Task<string> ScriptAsync(string script, params string[] arguments)
    {
        await Started.Value;
        return await RunAsync(script, arguments);
    }

    /// <summary>
    /// Installs Debian packages through servers.sh's apt_install, one test process at a time (apt holds a lock of
    /// its own, and would fail the second instead of making it wait).
    /// </summary>
    public static async Task InstallAsync(params string[] packages)
    {
        await Started.Value;
        using (await Task.Run(() => ServerLease.Alone(Path.Combine(DataFolder, "install.lock"))))
        {
            await RunAsync("servers.sh", ["install", .. packages]);
        }
    }

    /// <summary>The "export Name='value'" lines the scripts print for a shell (servers.sh env), as names and values.</summary>
    public static IReadOnlyDictionary<string, string> ParseExports(string exports)
    {
        ArgumentNullException.ThrowIfNull(exports);
        return exports.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line["export ".Length..].Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1].Trim().Trim('\''));
    }

    private static async Task StartAsync()
    {
        SetDefault("PETITION_DATA", Path.Combine(RepoRoot, ".data", "test"));
        foreach (var (name, value) in Defaults) SetDefault(name, value);
        var data = Environment.GetEnvironmentVariable("PETITION_DATA")!;
        Directory.CreateDirectory(data);
        ServerLease.Share(Path.Combine(data, "servers.lease"));
        if (Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is not null) return;

        // Several test assemblies start at once (dotnet test Petition.sln): one runs servers.sh start, the others
        // then find the servers up (it leaves a running server alone).
        using (ServerLease.Alone(Path.Combine(data, "servers.start.lock")))
        {
            await RunAsync("servers.sh", ["start"]);
        }

        foreach (var (name, value) in ParseExports(await RunAsync("servers.sh", ["env"]))) Environment.SetEnvironmentVariable(name, value);
    }

    private static void SetDefault(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
    }

    private static async Task<string> RunAsync(string script, string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(RepoRoot, "deploy", "local", script), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        return await output;
    }

    private static string Required(string name)
    {
        EnsureStarted();
        return Environment.GetEnvironmentVariable(name)
            ?? throw new InvalidOperationException($"{name} is not set: set all of ConnectionStrings__* and Petition__* (servers.sh env prints them), or none.");
    }
}
