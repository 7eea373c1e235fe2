using System.Diagnostics;
using Petition.Contracts;
using Petition.ServiceDefaults;
using Petition.Storage;
using Petition.Worker.Dedup;
using Petition.Worker.Faults;

namespace Petition.Worker.Storing;

/// <summary>
/// Where a signature becomes durable: the Redis check, one PostgreSQL transaction (COPY into staging, the merge,
/// the commit), then the committed signers recorded in Redis. The transaction is tried again through an outage
/// (<see cref="StoreRetry"/>); a failure for the data itself (22xxx, 23xxx) is the caller's to split off.
/// Nothing is acked here: a crash at any step leaves the batch to be redelivered, and the write recognises rows
/// an earlier attempt stored by their signature id, so nothing is lost or counted twice.
/// </summary>
public sealed partial class SignatureStore(
    SignatureDeduplicator deduplicator, SignatureBatchWriter writer, StoreRetry retry, CrashPoints crash, ILogger<SignatureStore> logger)
{
    /// <summary>Stores the signatures; returns what the commit did and the petitions' new totals.</summary>
    public async Task<BatchOutcome> StoreAsync(IReadOnlyList<AcceptedSignature> signatures, CancellationToken cancellationToken)
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

    [LoggerMessage(1, LogLevel.Debug, "Batch of {Count} signatures committed: {Stored} stored, {Duplicates} duplicates")]
    private static partial void LogStored(ILogger logger, int count, int stored, int duplicates);
}
