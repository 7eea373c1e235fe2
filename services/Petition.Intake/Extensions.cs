using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Petition.Intake.Acceptance;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.Intake.Publishing;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Storage;

namespace Petition.Intake;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddIntakeOptions();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddPetitionStorage();
        builder.AddPetitionBus();
        builder.Services.AddSendObserver<BrokerRefusals>();

        builder.AddPetitionCatalog();
        builder.AddSignaturePublishing();
        builder.AddAccessLists();
        builder.Services.AddSingleton<SignatureAcceptance>();
        builder.Services.AddSingleton<ChangeAnnouncer>();

        builder.AddSigningClients();
        builder.AddSigningRateLimits();
        builder.AddCampaignSites();
    }

    private static void AddIntakeOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IntakeOptions>().Bind(builder.Configuration.GetSection("Petition"))
            .Validate(o => o.DedupSecret.Length >= 16, "Petition:DedupSecret must be set (16+ characters).")
            .Validate(o => o.ContactEmailKey.Length >= 16, "Petition:ContactEmailKey must be set (16+ characters).")
            .Validate(o => o.MaxImportRows > 0, "Petition:MaxImportRows must be positive.")
            .Validate(o => o.ConfirmationLifetime > TimeSpan.Zero, "Petition:ConfirmationLifetime must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<CoalescingOptions>().Bind(builder.Configuration.GetSection("Coalescing"))
            .Validate(o => o.MaxSignaturesPerMessage > 0 && o.MaxInFlight > 0 && o.QueueCapacity > 0 && o.Linger >= TimeSpan.Zero,
                "Coalescing: MaxSignaturesPerMessage, MaxInFlight and QueueCapacity must be positive, Linger not negative.")
            .Validate(o => o.AdmissionBudget > TimeSpan.Zero && o.MinConfirmRate > 0, "Coalescing: AdmissionBudget and MinConfirmRate must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<SigningKeys>();
        builder.Services.AddSingleton<Apis.ConfirmationLimits>();
    }

    private static void AddPetitionCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PetitionCatalog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PetitionCatalog>());
        builder.Services.AddHealthChecks().AddCheck<PetitionCatalogHealthCheck>("petition-catalog", tags: [ServiceDefaultsExtensions.ReadyTag]);
    }

    private static void AddSignaturePublishing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SendChannelReset>();
        builder.Services.AddSingleton<SignaturePublisher>();
        builder.Services.AddSingleton<PublishAdmission>();
        // Registered after the bus, so it stops (and drains) before the bus does.
        builder.Services.AddSingleton<SignatureCoalescer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SignatureCoalescer>());
    }

    /// <summary>The keys and blocks in memory, and the API keys they hold beside the configured admin key.</summary>
    private static void AddAccessLists(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AccessLists>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AccessLists>());
        builder.Services.AddHealthChecks().AddCheck<AccessListsHealthCheck>("access-lists", tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.AddApiKeyAuthentication(IssuedKeyHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, IssuedKeyHandler>(IssuedKeyHandler.SchemeName, null);
    }

    /// <summary>Campaign pages on other domains post their visitors' signatures straight from the browser.</summary>
    private static void AddCampaignSites(this IHostApplicationBuilder builder) =>
        builder.Services.AddCors(cors => cors.AddPolicy(Apis.SignaturesApi.CorsPolicy, policy => policy.AllowAnyOrigin()
            .WithHeaders("Content-Type", Apis.SignaturesApi.WithdrawalTokenHeader, Apis.SignaturesApi.ConfirmationTokenHeader).WithMethods("GET", "POST", "DELETE").WithExposedHeaders("Retry-After")));
}
