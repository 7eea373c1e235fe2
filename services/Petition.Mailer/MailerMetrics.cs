using System.Diagnostics.Metrics;
using Petition.Contracts;
using Petition.ServiceDefaults;

namespace Petition.Mailer;

/// <summary>The mailer's instruments. Tags are kinds and reasons, never an address.</summary>
internal static class MailerMetrics
{
    private static readonly Counter<long> Sent = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.mails.sent", "{mail}", "Signer mails the relay accepted (250), by kind.");

    private static readonly Counter<long> Skipped = PetitionTelemetry.Meter.CreateCounter<long>(
        "petition.mails.skipped", "{mail}", "Signer mail requests not sent, by reason: capped, already_sent, undeliverable, unreadable, no_petition.");

    private static readonly Histogram<double> SendDuration = PetitionTelemetry.Meter.CreateHistogram<double>(
        "petition.mails.send.duration", "s", "From handing a mail to the relay to its 250.");

    public static void RecordSent(SignerMailKind kind, TimeSpan took)
    {
        Sent.Add(1, new KeyValuePair<string, object?>("kind", kind == SignerMailKind.Confirm ? "confirm" : "already_signed"));
        SendDuration.Record(took.TotalSeconds);
    }

    public static void RecordSkipped(string reason) => Skipped.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
