using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Petition.Storage;

/// <summary>Registers PostgreSQL access for a service.</summary>
public static class StorageExtensions
{
    /// <summary>
    /// Adds an <see cref="NpgsqlDataSource"/> from the connection string "Postgres", the schema migrator run
    /// at start, and the repositories.
    /// </summary>
    public static IHostApplicationBuilder AddPetitionStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPetitionStorage(builder.Configuration);
        return builder;
    }

    /// <summary>The same, for a container built without a host builder (a test's, say).</summary>
    public static IServiceCollection AddPetitionStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured.");
        services.AddSingleton(provider =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            // Keep the per-connection staging table between batches instead of DISCARD ALL on every return.
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            // The pool's name in metrics (otherwise the connection string: host, user and database on /metrics).
            dataSource.Name = "petition";
            dataSource.UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        // Npgsql's own spans (one per command, under the batch's), without PostgreSQL's error text, and its pool metrics.
        services.ConfigureOpenTelemetryTracerProvider(tracing =>
        {
            PostgresErrors.RedactSpans();
            tracing.AddNpgsql();
        });
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddNpgsqlInstrumentation());
        services.AddSingleton<SchemaMigrator>();
        services.AddHostedService<SchemaMigrationService>();
        services.AddSingleton<PetitionRepository>();
        services.AddSingleton<PetitionChanges>();
        services.AddSingleton<SignatureStatusReader>();
        services.AddSingleton<SignatureBatchWriter>();
        services.AddSingleton<SignatureConfirmations>();
        services.AddSingleton<TotalsReader>();
        services.AddSingleton<MilestoneStore>();
        services.AddSingleton<AccessRepository>();
        services.AddSingleton<AdminAudit>();
        services.AddSingleton<SignatureAdministration>();
        services.AddSingleton<SignatureRetention>();
        return services;
    }
}

/// <summary>
/// Runs the migrator before the other hosted services start (the bus among them), retrying while
/// PostgreSQL is unreachable, so nothing consumes a message before the schema is in place.
/// </summary>
internal sealed partial class SchemaMigrationService(SchemaMigrator migrator, ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var applied = await migrator.MigrateAsync(cancellationToken);
                LogMigrated(logger, applied.Count, string.Join(", ", applied));
                return;
            }
            catch (Exception e) when (PostgresErrors.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                LogWaiting(logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Ids 9001+: this library logs inside every service, next to the service's own ids.
    [LoggerMessage(9001, LogLevel.Information, "Schema up to date; applied {Count} migration(s): {Names}")]
    private static partial void LogMigrated(ILogger logger, int count, string names);

    [LoggerMessage(9002, LogLevel.Warning, "PostgreSQL not reachable for migrations (attempt {Attempt}): {Reason}")]
    private static partial void LogWaiting(ILogger logger, int attempt, string reason);
}
