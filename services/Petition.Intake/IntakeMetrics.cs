using System.Diagnostics.Metrics;
using Petition.Contracts;
using Petition.ServiceDefaults;

namespace Petition.Intake;

/// <summary>The intake's instruments. Tags are reasons and sources, never signer data.</summary>
internal static class IntakeMetrics
{
    private static readonly Counter<long> Accepted = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.signatures.accepted", "{signature}", "Signatures answered 202: confirmed by the broker.");

    private static readonly Counter<long> Rejected = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.signatures.rejected", "{signature}", "Signatures refused, by reason.");

    private static readonly Counter<long> StatusLookupsRefused = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.status_lookups.refused", "{lookup}", "Signature-status lookups not run, by reason.");

    private static readonly Counter<long> Confirmations = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.confirmations", "{confirmation}", "Signers' confirmations (the mailed link's button), by outcome.");

    private static readonly Histogram<double> ConfirmDuration = PetitionTelemetry.Meter.CreateHistogram<double>(
        "petition.publish.confirm.duration", "s", "From sending a message of signatures to the broker's confirm.");

    private static readonly Histogram<int> MessageSize = PetitionTelemetry.Meter.CreateHistogram(
        "petition.publish.message.signatures", "{signature}", "Signatures coalesced into one broker message.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });

    public static void RecordAccepted(SignatureSource source, int count) =>
        Accepted.Add(count, new KeyValuePair<string, object?>("source", source == SignatureSource.Offline ? "offline" : "online"));

    /// <summary>reason: invalid, petition_not_found, petition_closed, blocked, bad_api_key, broker_unavailable, not_ready, rate_limited, overloaded.</summary>
    public static void RecordRejected(string reason, int count = 1) => Rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>reason: never_issued, rate_limited, busy.</summary>
    public static void RecordStatusLookupRefused(string reason) => StatusLookupsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>outcome: accepted, forged, expired, rate_limited, broker_unavailable.</summary>
    public static void RecordConfirmation(string outcome) => Confirmations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public static void RecordSent(int signatures, TimeSpan confirmedAfter)
    {
        MessageSize.Record(signatures);
        ConfirmDuration.Record(confirmedAfter.TotalSeconds);
    }
}
