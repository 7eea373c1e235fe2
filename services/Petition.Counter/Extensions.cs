using MassTransit;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
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
            .Validate(o => o.MaxStreams > 0 && o.MaxStreamsPerClient > 0 && o.StreamRetryAfter >= TimeSpan.FromSeconds(1),
                "Counter: MaxStreams and MaxStreamsPerClient must be positive, StreamRetryAfter at least a second.")
            .Validate(o => TrustedProxies.AreValid(o.TrustedProxies), "Counter:TrustedProxies: " + TrustedProxies.ValidationMessage)
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        builder.AddPetitionStorage();

        services.AddSingleton<PetitionCounts>();
        services.AddSingleton<MilestoneTracker>();
        services.AddSingleton<CountUpdater>();
        services.AddSingleton<CountBroadcaster>();
        services.AddSingleton<StreamAdmission>();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<CounterOptions>>((forwarded, counter) =>
            TrustedProxies.Configure(forwarded, counter.Value.TrustedProxies));
        services.AddSingleton<ICountListener>(sp => sp.GetRequiredService<CountBroadcaster>());
        services.AddHostedService(sp => sp.GetRequiredService<CountBroadcaster>());
        services.AddSingleton<TotalsFeed>();
        services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<TotalsFeed>());
        services.AddSingleton<CountReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<CountReconciler>());
        services.AddHostedService<NewPetitions>();
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
        services.AddCors(cors => cors.AddPolicy(CountsApi.CorsPolicy, policy => policy.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET")
            .WithExposedHeaders("Retry-After"))); // the widget waits as long as a refused stream is told to
        builder.AddApiKeyAuthentication();
    }
}
