using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Petition.Intake.Acceptance;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.Intake.Publishing;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<IntakeOptions>().Bind(builder.Configuration.GetSection("Petition"))
            .Validate(o => o.DedupSecret.Length >= 16, "Petition:DedupSecret must be set (16+ characters).")
            .Validate(o => o.ContactEmailKey.Length >= 16, "Petition:ContactEmailKey must be set (16+ characters).")
            .ValidateOnStart();
        services.AddOptions<CoalescingOptions>().Bind(builder.Configuration.GetSection("Coalescing"))
            .Validate(o => o.MaxSignaturesPerMessage > 0 && o.MaxInFlight > 0 && o.QueueCapacity > 0 && o.Linger >= TimeSpan.Zero,
                "Coalescing: MaxSignaturesPerMessage, MaxInFlight and QueueCapacity must be positive, Linger not negative.")
            .ValidateOnStart();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton(TimeProvider.System);

        services.AddPetitionStorage(builder.Configuration);
        services.AddPetitionBus(builder.Configuration);
        services.AddSendObserver<BrokerRefusals>();

        services.AddSingleton<PetitionCatalog>();
        services.AddHostedService(sp => sp.GetRequiredService<PetitionCatalog>());
        services.AddSingleton<SendChannelReset>();
        services.AddSingleton<SignaturePublisher>();
        // Registered after the bus, so it stops (and drains) before the bus does.
        services.AddSingleton<SignatureCoalescer>();
        services.AddHostedService(sp => sp.GetRequiredService<SignatureCoalescer>());
        services.AddSingleton<AccessLists>();
        services.AddHostedService(sp => sp.GetRequiredService<AccessLists>());
        services.AddSingleton<SignatureAcceptance>();
        services.AddSingleton<ChangeAnnouncer>();
        services.AddHealthChecks()
            .AddCheck<PetitionCatalogHealthCheck>("petition-catalog", tags: [ServiceDefaultsExtensions.ReadyTag])
            .AddCheck<AccessListsHealthCheck>("access-lists", tags: [ServiceDefaultsExtensions.ReadyTag]);

        SigningClient.AddSigningClients(builder);
        builder.AddSigningRateLimits();
        // The admin policy takes the configured key and issued admin keys; partners sign with issued keys.
        builder.AddApiKeyAuthentication(IssuedKeyHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, IssuedKeyHandler>(IssuedKeyHandler.SchemeName, null);
        // Campaign pages on other domains post their visitors' signatures straight from the browser.
        services.AddCors(cors => cors.AddPolicy(Apis.SignaturesApi.CorsPolicy, policy => policy.AllowAnyOrigin().WithHeaders("Content-Type", Apis.SignaturesApi.WithdrawalTokenHeader).WithMethods("GET", "POST", "DELETE").WithExposedHeaders("Retry-After")));
    }
}
