using MassTransit;
using Petition.Counter.Apis;
using Petition.Counter.Counting;
using Petition.Counter.Streaming;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Storage;

namespace Petition.Counter;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<CounterOptions>().Bind(builder.Configuration.GetSection("Counter"))
            .Validate(o => o.PushInterval >= TimeSpan.Zero && o.HeartbeatInterval > TimeSpan.Zero && o.ReconcileInterval > TimeSpan.Zero && o.ReconcileIntervalWithoutEvents > TimeSpan.Zero,
                "Counter: PushInterval must not be negative, HeartbeatInterval and the ReconcileIntervals must be positive.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        builder.AddPetitionStorage();

        services.AddSingleton<PetitionCounts>();
        services.AddSingleton<MilestoneTracker>();
        services.AddSingleton<CountUpdater>();
        services.AddSingleton<CountBroadcaster>();
        services.AddSingleton<ICountListener>(sp => sp.GetRequiredService<CountBroadcaster>());
        services.AddHostedService(sp => sp.GetRequiredService<CountBroadcaster>());
        services.AddSingleton<TotalsFeed>();
        services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<TotalsFeed>());
        services.AddSingleton<CountReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<CountReconciler>());
        services.AddHealthChecks()
            .AddCheck<CountsLoadedHealthCheck>("totals", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<PostgresHealthCheck>("postgres", tags: [ServiceDefaultsExtensions.ReadyTag]);

        // Every counter instance hears every commit: a queue of its own, deleted when it stops.
        builder.AddPetitionBus(bus => bus.AddConsumer<TotalsChangedConsumer>()
            .Endpoint(e =>
            {
                e.Temporary = true;
                e.InstanceId = Guid.NewGuid().ToString("N")[..8];
            }));

        // Campaign sites live on other domains; the counts are public.
        services.AddCors(cors => cors.AddPolicy(CountsApi.CorsPolicy, policy => policy.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET")));
        builder.AddApiKeyAuthentication();
    }
}
