using MailKit.Net.Smtp;
using MassTransit;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Messaging;
using Petition.Storage;

namespace Petition.Mailer.Sending;

/// <summary>
/// One signer's mail: within the caps for its address, sent once (the ledger remembers the relay's 250), acked only
/// after. A crash between the 250 and the mark sends it again on redelivery, with the same links and Message-Id. A
/// relay's permanent refusal of the recipient marks the signature undeliverable; anything else is retried.
/// </summary>
internal sealed partial class SignerMailConsumer(
    MailLedger ledger, PetitionDetails petitions, MailKeys keys, SignerMailComposer composer, SmtpRelay relay,
    SignatureConfirmations confirmations, ILogger<SignerMailConsumer> logger) : IConsumer<SendSignerMail>
{
    public async Task Consume(ConsumeContext<SendSignerMail> context)
    {
        var request = context.Message;
        switch (await ledger.AllowAsync(request.RequestId, request.PetitionId, request.DedupKey))
        {
            case MailAllowance.Sent:
                MailerMetrics.RecordSkipped("already_sent");
                return;
            case MailAllowance.Capped:
                MailerMetrics.RecordSkipped("capped");
                return;
        }

        if (keys.Mail.TryUnprotect(request.MailTo, request.RequestId) is not { } email)
        {
            // Sealed under another key (or altered): no retry can open it.
            MailerMetrics.RecordSkipped("unreadable");
            LogUnreadable(logger, request.RequestId);
            return;
        }

        if (await petitions.FindAsync(request.PetitionId, context.CancellationToken) is not { } petition)
        {
            MailerMetrics.RecordSkipped("no_petition");
            return;
        }

        var started = TimeProvider.System.GetTimestamp();
        try
        {
            await relay.SendAsync(composer.Compose(request, email, petition), context.CancellationToken);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500 && e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
        {
            // A permanent refusal: sending again changes nothing. The signature cannot be confirmed; it expires.
            if (request.Kind == SignerMailKind.Confirm) await confirmations.MarkUndeliverableAsync(request.SignatureId, context.CancellationToken);
            await ledger.MarkSentAsync(request.RequestId, request.DedupKey);
            MailerMetrics.RecordSkipped("undeliverable");
            LogUndeliverable(logger, request.RequestId, (int)e.StatusCode);
            return;
        }

        await ledger.MarkSentAsync(request.RequestId, request.DedupKey);
        MailerMetrics.RecordSent(request.Kind, TimeProvider.System.GetElapsedTime(started));
    }

    [LoggerMessage(41, LogLevel.Warning, "Mail request {RequestId} cannot be opened with this mailer's key; dropped")]
    private static partial void LogUnreadable(ILogger logger, Guid requestId);

    [LoggerMessage(42, LogLevel.Information, "Mail request {RequestId} refused for good by the relay ({Status}); its signature is marked undeliverable")]
    private static partial void LogUndeliverable(ILogger logger, Guid requestId, int status);
}

/// <summary>The mail queue: mails in flight at once, and retries that outlast a relay or Redis restart before the error queue.</summary>
internal sealed class SignerMailConsumerDefinition : ConsumerDefinition<SignerMailConsumer>
{
    private readonly MailerOptions _options;

    public SignerMailConsumerDefinition(IOptions<MailerOptions> options, IOptions<MessagingOptions> messaging)
    {
        _options = options.Value;
        EndpointName = messaging.Value.MailQueue;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<SignerMailConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.ConcurrencyLimit * 2;
        endpointConfigurator.ConcurrentMessageLimit = _options.ConcurrencyLimit;
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60),
            TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5)));
    }
}
