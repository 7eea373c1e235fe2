using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Petition.Contracts;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Worker.Confirming;
using Petition.Storage;
using Petition.Worker.Faults;

namespace Petition.Worker.Storing;

/// <summary>
/// Takes the signature queue in batches: stores each batch through the <see cref="SignatureStore"/>, sets aside a
/// message PostgreSQL refuses for its data, publishes the new totals, and acks. The batch is acked only after its
/// commit, so a crash at any step redelivers it.
/// </summary>
public sealed partial class StoreSignaturesConsumer(
    SignatureStore store, CrashPoints crash, IOptions<MessagingOptions> messaging, ILogger<StoreSignaturesConsumer> logger)
    : IConsumer<Batch<StoreSignatures>>
{
    private const string PoisonReasonHeader = "Petition-Poison-Reason";

    public async Task Consume(ConsumeContext<Batch<StoreSignatures>> context)
    {
        var signatures = context.Message.SelectMany(m => m.Message.Signatures).ToList();
        // Under MassTransit's consume span, linked to the request of every signature in the batch.
        using var activity = PetitionTelemetry.Source.StartActivity("signatures store", ActivityKind.Internal, Activity.Current?.Context ?? default,
            tags: [new("petition.messages", context.Message.Length), new("petition.signatures", signatures.Count)],
            links: PetitionTelemetry.LinksTo(signatures.Select(s => s.TraceParent)));
        try
        {
            var outcome = await store.StoreAsync(signatures, context.CancellationToken);
            await PublishTotalsAsync(context, outcome);
            await SendMailsAsync(context, signatures, outcome);
        }
        catch (PostgresException e) when (PostgresErrors.IsBadData(e))
        {
            // One bad message must not hold back the good ones it was batched with: store them one by one.
            foreach (var message in context.Message)
            {
                await StoreOneOrSetAsideAsync(context, message);
            }
        }

        crash.Reached(CrashPoint.BeforeAck);
    }

    private async Task StoreOneOrSetAsideAsync(ConsumeContext context, ConsumeContext<StoreSignatures> message)
    {
        try
        {
            var outcome = await store.StoreAsync(message.Message.Signatures, context.CancellationToken);
            await PublishTotalsAsync(context, outcome);
            await SendMailsAsync(context, message.Message.Signatures, outcome);
        }
        catch (PostgresException e) when (PostgresErrors.IsBadData(e))
        {
            // Set aside with the reason, confirmed by the broker before the batch is acked: never dropped.
            var reason = PostgresErrors.Describe(e);
            LogPoison(logger, message.Message.BatchId, reason);
            var poison = await context.GetSendEndpoint(new Uri($"queue:{messaging.Value.SignatureQueue}_error"));
            await poison.Send(message.Message, send => send.Headers.Set(PoisonReasonHeader, reason), context.CancellationToken);
        }
    }

    // After the commit, best effort: a lost totals event is caught up by the counter's reconciliation.
    private async Task PublishTotalsAsync(ConsumeContext context, BatchOutcome outcome)
    {
        try
        {
            await Task.WhenAll(outcome.Totals.Select(t => context.Publish(t.ToChangedEvent(), context.CancellationToken)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, outcome.Totals.Count, e.Message);
        }
    }

    // After the commit and before the ack, not best effort: a mail not queued is sent again until it is.
    private async Task SendMailsAsync(ConsumeContext context, IReadOnlyList<AcceptedSignature> signatures, BatchOutcome outcome)
    {
        var mails = SignerMails.For(signatures, outcome);
        await SignerMails.SendAsync(context, messaging.Value.MailQueue, mails, logger);
        WorkerMetrics.RecordMailsRequested(mails);
    }

    [LoggerMessage(3, LogLevel.Error, "Message {BatchId} cannot be stored and was moved to the error queue: {Reason}")]
    private static partial void LogPoison(ILogger logger, Guid batchId, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Totals events for {Count} petitions not published after commit (the counter reconciles): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, int count, string reason);
}
