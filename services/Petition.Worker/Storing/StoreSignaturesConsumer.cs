using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Petition.Contracts;
using System.Diagnostics;
using Petition.Messaging;
using Petition.ServiceDefaults;
using Petition.Storage;
using Petition.Worker.Dedup;
using Petition.Worker.Faults;

namespace Petition.Worker.Storing;

/// <summary>
/// Stores batches of accepted signatures: Redis check, one PostgreSQL transaction, Redis record, totals event, ack.
/// The batch is acked only after the commit, so a crash at any step redelivers it; the write recognises
/// rows a failed attempt already stored by their signature id, so nothing is lost or counted twice.
/// </summary>
public sealed partial class StoreSignaturesConsumer(
    SignatureDeduplicator deduplicator, SignatureBatchWriter writer, StoreRetry retry, CrashPoints crash,
    IOptions<MessagingOptions> messaging, ILogger<StoreSignaturesConsumer> logger)
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
            var outcome = await StoreAsync(signatures, context.CancellationToken);
            await PublishTotalsAsync(context, outcome);
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

    private async Task<BatchOutcome> StoreAsync(IReadOnlyList<AcceptedSignature> signatures, CancellationToken cancellationToken)
    {
        IReadOnlyList<bool> knownDuplicates;
        using (PetitionTelemetry.Source.StartActivity("signatures dedup"))
        {
            knownDuplicates = await deduplicator.FindTakenAsync(signatures);
        }

        crash.Reached(CrashPoint.AfterDedup);

        return await retry.ExecuteAsync(signatures.Count, async attemptCancellation =>
        {
            var started = Stopwatch.GetTimestamp();
            await using var write = await writer.BeginAsync(attemptCancellation);
            using (PetitionTelemetry.Source.StartActivity("signatures copy")?.SetTag("petition.signatures", signatures.Count))
            {
                await write.CopyAsync(signatures, knownDuplicates, attemptCancellation);
            }

            crash.Reached(CrashPoint.AfterCopy);
            BatchOutcome outcome;
            using (var commit = PetitionTelemetry.Source.StartActivity("signatures commit"))
            {
                outcome = await write.CommitAsync(attemptCancellation);
                commit?.SetTag("petition.stored", outcome.Stored).SetTag("petition.duplicates", outcome.Duplicates);
            }

            crash.Reached(CrashPoint.AfterCommit);
            WorkerMetrics.RecordBatch(signatures, outcome.Stored, outcome.Duplicates, Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow);
            // Only now, committed, do these signers count as taken in Redis.
            await deduplicator.RecordCommittedAsync(signatures, outcome.StoredSignatureIds);
            LogStored(logger, signatures.Count, outcome.Stored, outcome.Duplicates);
            return outcome;
        }, cancellationToken);
    }

    private async Task StoreOneOrSetAsideAsync(ConsumeContext context, ConsumeContext<StoreSignatures> message)
    {
        try
        {
            var outcome = await StoreAsync(message.Message.Signatures, context.CancellationToken);
            await PublishTotalsAsync(context, outcome);
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
            await Task.WhenAll(outcome.Totals.Select(t => context.Publish(new PetitionTotalsChanged
            {
                PetitionId = t.PetitionId, Total = t.Total, ByCountry = t.ByCountry, Version = t.Version, LastSignedAt = t.LastSignedAt,
            }, context.CancellationToken)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, outcome.Totals.Count, e.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Batch of {Count} signatures committed: {Stored} stored, {Duplicates} duplicates")]
    private static partial void LogStored(ILogger logger, int count, int stored, int duplicates);

    [LoggerMessage(4, LogLevel.Warning, "Totals events for {Count} petitions not published after commit (the counter reconciles): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, int count, string reason);

    [LoggerMessage(3, LogLevel.Error, "Message {BatchId} cannot be stored and was moved to the error queue: {Reason}")]
    private static partial void LogPoison(ILogger logger, Guid batchId, string reason);
}
