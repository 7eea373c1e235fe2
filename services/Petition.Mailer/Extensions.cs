using MassTransit;
using Petition.Mailer.Sending;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;
using StackExchange.Redis;

namespace Petition.Mailer;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MailerOptions>().Bind(builder.Configuration.GetSection("Mail"))
            .Validate(o => !string.IsNullOrWhiteSpace(o.SmtpHost) && o.SmtpPort is > 0 and < 65536, "Mail: SmtpHost and SmtpPort must name the relay.")
            .Validate(o => o.MaxPerAddressPerPetition > 0 && o.MaxPerAddressPerDay > 0 && o.ConcurrencyLimit > 0 && o.ConfirmationLifetime > TimeSpan.Zero,
                "Mail: the caps, ConcurrencyLimit and ConfirmationLifetime must be positive.")
            .Validate(o => MimeKit.MailboxAddress.TryParse(o.From, out _), "Mail: From must be a mail address.")
            .ValidateOnStart();
        var secret = builder.Configuration["Petition:DedupSecret"];
        if (string.IsNullOrEmpty(secret)) throw new InvalidOperationException("Petition:DedupSecret is not configured (the mailer opens what the intake sealed with it).");
        services.AddSingleton(sp => new MailKeys(secret, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MailerOptions>>().Value.ConfirmationLifetime));

        builder.AddPetitionStorage();
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [ServiceDefaultsExtensions.ReadyTag]);
        var redis = builder.Configuration.GetConnectionString("Redis") ?? throw new InvalidOperationException("ConnectionStrings:Redis is not configured.");
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = false; // start without Redis; a mail waits (retried) until it answers
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton<MailLedger>();
        services.AddSingleton<PetitionDetails>();
        services.AddSingleton<SignerMailComposer>();
        services.AddSingleton<SmtpRelay>();
        services.AddSingleton(TimeProvider.System);

        builder.AddPetitionBus(bus => bus.AddConsumer<SignerMailConsumer, SignerMailConsumerDefinition>());
    }
}

/// <summary>The mailer's keyed operations, each from the dedup secret: opening the sealed email, making the links' tokens.</summary>
internal sealed class MailKeys(string dedupSecret, TimeSpan confirmationLifetime)
{
    public ContactEmailProtector Mail { get; } = ContactEmailProtector.ForMail(dedupSecret);

    public ConfirmationTokens Confirmation { get; } = new(dedupSecret, confirmationLifetime);

    public WithdrawalTokens Withdrawal { get; } = new(dedupSecret);
}
