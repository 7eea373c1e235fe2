using MailKit.Net.Smtp;
using MassTransit;
using StackExchange.Redis;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Messaging;
using Petition.Storage;

namespace Petition.Mailer.Sending;

/// <summary>
/// A message of signers' mails, up to <see cref="MailerOptions.ConcurrencyLimit"/> sent at once, acked once each is
/// sent or dropped; a mail that failed fails the message, whose redelivery skips the ones sent (the ledger). Each
/// mail: within the caps for its address, sent once (the ledger's lease and mark around the relay's
/// 250), acked only after. A crash between the 250 and the mark sends it again on redelivery, with the same links and
/// Message-Id. What no retry can change is dropped and counted: a relay's permanent refusal (5xx) of the recipient or
/// the message (the signature is then marked undeliverable), an address MimeKit cannot write. Anything else is
/// retried. Nothing the relay said is kept: its replies name the recipient.
/// </summary>
internal sealed partial class SignerMailConsumer(
    MailLedger ledger, PetitionDetails petitions, MailKeys keys, SignerMailComposer composer, SmtpRelay relay,
    SignatureConfirmations confirmations, IOptions<MailerOptions> options, ILogger<SignerMailConsumer> logger) : IConsumer<SendSignerMails>
{
    public async Task Consume(ConsumeContext<SendSignerMails> context)
    {
        // One mail failing must not cancel the others mid-send (a mail cut off after the relay's 250 would go twice):
        // each runs to its end, and the message fails afterwards if any did.
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        await Parallel.ForEachAsync(context.Message.Mails,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.ConcurrencyLimit, CancellationToken = context.CancellationToken },
            async (request, cancellationToken) =>
            {
                try
                {
                    await SendAsync(request, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    failures.Enqueue(e);
                }
            });
        if (failures.TryPeek(out var first)) throw first is MailRelayException ? first : new MailRelayException($"{failures.Count} of {context.Message.Mails.Count} mails not sent ({first.GetType().Name}); retried.");
    }

    private async Task SendAsync(SendSignerMail request, CancellationToken cancellationToken)
    {
        var (allowance, lease) = await ledger.AllowAsync(request.RequestId, request.PetitionId, request.DedupKey);
        switch (allowance)
        {
            case MailAllowance.Sent:
                MailerMetrics.RecordSkipped("already_sent");
                return;
            case MailAllowance.Capped:
                MailerMetrics.RecordSkipped("capped");
                return;
            case MailAllowance.Busy:
                throw new MailRelayException("Another delivery of this mail request holds its lease; retried.");
        }

        var outcome = SendOutcome.NotSent;
        try
        {
            outcome = await SendHeldAsync(request, lease!, cancellationToken);
        }
        finally
        {
            // Not sent: the lease goes at once, so a retry need not wait it out. Taken by the relay but not marked
            // (Redis away): the lease stays until it runs out, the one window in which the mail can go twice.
            if (outcome == SendOutcome.NotSent) await ledger.ReleaseAsync(request.RequestId, request.DedupKey, lease!);
        }
    }

    private enum SendOutcome
    {
        NotSent,
        TakenByRelay,
        Done,
    }

    private async Task<SendOutcome> SendHeldAsync(SendSignerMail request, string lease, CancellationToken cancellationToken)
    {
        if (keys.Mail.TryUnprotect(request.MailTo, request.RequestId) is not { } email)
        {
            // Sealed under another key (or altered): no retry can open it.
            await DropAsync(request, lease, "unreadable");
            return SendOutcome.Done;
        }

        if (await petitions.FindAsync(request.PetitionId, cancellationToken) is not { } petition)
        {
            await DropAsync(request, lease, "no_petition");
            return SendOutcome.Done;
        }

        MimeKit.MimeMessage message;
        try
        {
            message = composer.Compose(request, email, petition);
        }
        catch (MimeKit.ParseException)
        {
            // The intake's rules let through an address MimeKit will not write (a quoted local part, say).
            await DropAsync(request, lease, "unaddressable");
            return SendOutcome.Done;
        }

        var started = TimeProvider.System.GetTimestamp();
        try
        {
            // Once begun, only its deadline (within the lease) stops a send: one stopped after DATA may have been taken.
            await relay.SendAsync(message, MailLedger.SendDeadline, cancellationToken);
        }
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500 && e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
        {
            // A permanent refusal of this recipient: sending again changes nothing. The signature cannot be confirmed; it expires.
            if (request.Kind == SignerMailKind.Confirm) await confirmations.MarkUndeliverableAsync(request.SignatureId, cancellationToken);
            await DropAsync(request, lease, "undeliverable");
            LogUndeliverable(logger, request.RequestId, (int)e.StatusCode, e.ErrorCode.ToString());
            return SendOutcome.Done;
        }
        catch (NotSupportedException)
        {
            // This address needs what the relay does not offer (a non-ASCII local part, no SMTPUTF8): permanent.
            // (The relay lacking STARTTLS or AUTH fails the connection instead, and is retried: SmtpRelay.)
            await DropAsync(request, lease, "unaddressable");
            return SendOutcome.Done;
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException)
        {
            // Retried (a 5xx for the message or the sender is the relay's setup, not this signer's); the relay's own
            // words, which name the recipient, go nowhere: not to the logs, the trace or the error queue.
            var status = e is SmtpCommandException command ? $"{(int)command.StatusCode} {command.ErrorCode}" : "protocol error";
            throw new MailRelayException($"The relay did not take the mail ({status}); retried.");
        }

        MailerMetrics.RecordSent(request.Kind, TimeProvider.System.GetElapsedTime(started));
        try
        {
            await ledger.MarkSentAsync(request.RequestId, request.DedupKey, lease);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Sent, not marked: acked all the same (it was sent); only a redelivery of its message after the lease
            // runs out would send it again.
            LogNotMarked(logger, request.RequestId);
            return SendOutcome.TakenByRelay;
        }

        return SendOutcome.Done;
    }

    // Dropped for good: marked as done in the ledger, so no redelivery tries again.
    private async Task DropAsync(SendSignerMail request, string lease, string reason)
    {
        await ledger.MarkSentAsync(request.RequestId, request.DedupKey, lease);
        MailerMetrics.RecordSkipped(reason);
        LogDropped(logger, request.RequestId, reason);
    }

    [LoggerMessage(41, LogLevel.Warning, "Mail request {RequestId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, Guid requestId, string reason);

    [LoggerMessage(43, LogLevel.Warning, "Mail request {RequestId} sent but not marked sent (Redis away); its lease runs out in its time")]
    private static partial void LogNotMarked(ILogger logger, Guid requestId);

    [LoggerMessage(42, LogLevel.Information, "Mail request {RequestId} refused for good by the relay ({Status} {Code})")]
    private static partial void LogUndeliverable(ILogger logger, Guid requestId, int status, string code);
}

/// <summary>A relay failure worth retrying, told without the relay's words (they name the recipient).</summary>
internal sealed class MailRelayException(string message) : Exception(message);

/// <summary>The mail queue: four messages at a time (their mails in parallel, ConcurrencyLimit in all), and retries that outlast a relay or Redis restart before the error queue.</summary>
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
        // A few messages at once, so one waiting on a retry does not hold up the rest; SmtpRelay keeps the mails
        // being sent to ConcurrencyLimit over all of them.
        endpointConfigurator.PrefetchCount = 8;
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60),
            TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5)));
    }
}
