using System.Diagnostics.Metrics;
using Petition.Contracts;
using Petition.ServiceDefaults;

namespace Petition.Worker;

/// <summary>The worker's instruments.</summary>
internal static class WorkerMetrics
{
    private static readonly Counter<long> Stored = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.signatures.stored", "{signature}", "Signatures stored and counted.");

    private static readonly Counter<long> Duplicates = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.signatures.duplicates", "{signature}", "Accepted signatures that repeated an earlier signer.");

    private static readonly Histogram<int> BatchSize = PetitionTelemetry.Meter.CreateHistogram(
        "petition.batch.signatures", "{signature}", "Signatures in one batch, one transaction.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000] });

    private static readonly Histogram<double> CommitDuration = PetitionTelemetry.Meter.CreateHistogram<double>(
        "petition.batch.commit.duration", "s", "From opening a batch's transaction to its commit.");

    private static readonly Histogram<double> Lag = PetitionTelemetry.Meter.CreateHistogram<double>(
        "petition.signatures.lag", "s", "From a signature's acceptance (202) to its commit (counted).");

    private static readonly Counter<long> Confirmed = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.signatures.confirmed", "{signature}", "Signatures that started counting when their signer confirmed.");

    private static readonly Counter<long> MailsRequested = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.mails.requested", "{mail}", "Signer mails sent to the mail queue, by kind.");

    public static void RecordConfirmed(int confirmed) => Confirmed.Add(confirmed);

    public static void RecordMailsRequested(IReadOnlyList<SendSignerMail> mails)
    {
        foreach (var mail in mails) MailsRequested.Add(1, new KeyValuePair<string, object?>("kind", mail.Kind == SignerMailKind.Confirm ? "confirm" : "already_signed"));
    }

    public static void RecordBatch(IReadOnlyList<AcceptedSignature> signatures, int stored, int duplicates, TimeSpan commitDuration, DateTimeOffset committedAt)
    {
        Stored.Add(stored);
        Duplicates.Add(duplicates);
        BatchSize.Record(signatures.Count);
        CommitDuration.Record(commitDuration.TotalSeconds);
        foreach (var signature in signatures) Lag.Record((committedAt - signature.SubmittedAt).TotalSeconds);
    }
}
