using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Petition.Storage;

/// <summary>Registers PostgreSQL access for a service.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Adds an <see cref="NpgsqlDataSource"/> from the connection string "Postgres", the schema migrator run
    /// at start, and the repositories.
    /// </summary>
    public static IServiceCollection AddPetitionStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured.");
        UtcTimestampHandler.Register();
        services.AddSingleton(provider =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            // Keep the per-connection staging table between batches instead of DISCARD ALL on every return.
            builder.ConnectionStringBuilder.NoResetOnClose = true;
            // The pool's name in metrics (otherwise the connection string: host, user and database on /metrics).
            builder.Name = "petition";
            builder.UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>());
            return builder.Build();
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
        services.AddSingleton<SignatureStatusReader>();
        services.AddSingleton<SignatureBatchWriter>();
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

    [LoggerMessage(1, LogLevel.Information, "Schema up to date; applied {Count} migration(s): {Names}")]
    private static partial void LogMigrated(ILogger logger, int count, string names);

    [LoggerMessage(2, LogLevel.Warning, "PostgreSQL not reachable for migrations (attempt {Attempt}): {Reason}")]
    private static partial void LogWaiting(ILogger logger, int attempt, string reason);
}
