using Npgsql;

namespace Petition.Testing;

/// <summary>
/// The real servers the tests use, from the environment the test command sets (deploy/local/test.sh, which
/// starts them): ConnectionStrings__Postgres, __Redis, __RabbitMq, Petition__AdminApiKey, Petition__DedupSecret.
/// </summary>
public static class TestServers
{
    public static string Postgres => Required("ConnectionStrings__Postgres");

    public static string Redis => Required("ConnectionStrings__Redis");

    public static string RabbitMq => Required("ConnectionStrings__RabbitMq");

    public static string AdminKey => Required("Petition__AdminApiKey");

    public static string DedupSecret => Required("Petition__DedupSecret");

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

    /// <summary>Runs one of deploy/local's scripts and returns what it printed; throws if it fails.</summary>
    public static async Task<string> ScriptAsync(string script, params string[] arguments)
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

    private static string Required(string name) => Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException($"{name} is not set: run the tests through deploy/local/test.sh, which starts the servers.");
}
