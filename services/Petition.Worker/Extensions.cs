using MassTransit;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Storage;
using Petition.Worker.Confirming;
using Petition.Worker.Dedup;
using Petition.Worker.Faults;
using Petition.Worker.Retention;
using Petition.Worker.Storing;

namespace Petition.Worker;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection("Worker"))
            .Validate(o => o.MessageLimit > 0 && o.ConcurrencyLimit > 0 && o.TimeLimit > TimeSpan.Zero && o.MaxRetryDelay > TimeSpan.Zero,
                "Worker: MessageLimit, ConcurrencyLimit, TimeLimit and MaxRetryDelay must be positive.")
            // Polly's own limit, checked at start rather than when the first batch builds the retry policy.
            .Validate(o => o.MaxRetryDelay <= TimeSpan.FromDays(1), "Worker: MaxRetryDelay must be at most a day.")
            .ValidateOnStart();
        builder.AddPetitionStorage();
        services.AddOptions<RetentionOptions>().Bind(builder.Configuration.GetSection("Retention"))
            .Validate(o => o.AnonymiseAfterDays >= 0 && o.Interval > TimeSpan.Zero && o.ConfirmationLifetime > TimeSpan.Zero && o.ExpiryInterval > TimeSpan.Zero,
                "Retention: AnonymiseAfterDays must not be negative, Interval, ExpiryInterval and ConfirmationLifetime must be positive.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddHostedService<RetentionJob>();

        builder.AddDedupCache();
        services.AddSingleton<StoreRetry>();
        services.AddSingleton<CrashPoints>();
        services.AddSingleton<SignatureStore>();
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [ServiceDefaultsExtensions.ReadyTag]);

        builder.AddPetitionBus(bus =>
        {
            bus.AddConsumer<StoreSignaturesConsumer, StoreSignaturesConsumerDefinition>();
            bus.AddConsumer<ForgetSignersConsumer, ForgetSignersConsumerDefinition>();
            bus.AddConsumer<ConfirmSignaturesConsumer, ConfirmSignaturesConsumerDefinition>();
        });
    }
}
