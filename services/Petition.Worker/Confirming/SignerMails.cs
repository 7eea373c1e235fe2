using MassTransit;
using Petition.Contracts;
using Petition.Storage;

namespace Petition.Worker.Confirming;

/// <summary>
/// The mails a committed batch owes its signers awaiting confirmation: a new signer is asked to confirm; a repeat
/// of a signature still awaiting gets that signature's confirm mail again (a signer who lost the first mail signs
/// again); a repeat of a counted signature is told it already counts, with a link to withdraw it. The HTTP answer was
/// the same for all three; only the signer's own mailbox tells them apart.
/// </summary>
public static partial class SignerMails
{
    /// <summary>Mails to one broker message (a batch of 500 signatures awaiting makes five).</summary>
    public const int MailsPerMessage = 100;

    /// <summary>The mail commands for <paramref name="signatures"/>, as <paramref name="outcome"/> committed them.</summary>
    public static IReadOnlyList<SendSignerMail> For(IReadOnlyList<AcceptedSignature> signatures, BatchOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        ArgumentNullException.ThrowIfNull(outcome);
        var mails = new List<SendSignerMail>();
        foreach (var s in signatures)
        {
            if (s.MailTo is null) continue;
            (Guid About, SignerMailKind Kind)? mail = outcome.StoredSignatureIds.Contains(s.SignatureId) ? (s.SignatureId, SignerMailKind.Confirm)
                : outcome.Repeated.TryGetValue(s.SignatureId, out var first) ? (first.SignatureId, first.Awaiting ? SignerMailKind.Confirm : SignerMailKind.AlreadySigned)
                : null; // withdrawn before this delivery, or its first signer left: nobody to write to about anything
            if (mail is not { } m) continue;
            mails.Add(new SendSignerMail
            {
                RequestId = s.SignatureId, SignatureId = m.About, PetitionId = s.PetitionId, Kind = m.Kind, MailTo = s.MailTo, DedupKey = s.DedupKey,
            });
        }

        return mails;
    }

    /// <summary>
    /// Sends them to the mail queue, confirmed by the broker, before the batch is acked: the signatures are committed,
    /// so a failed send is tried again (all of them: the mailer sends each request once) for as long as it takes;
    /// stopping meanwhile leaves the batch unacked, and its redelivery stores nothing again and sends them again.
    /// </summary>
    public static async Task SendAsync(ConsumeContext context, string mailQueue, IReadOnlyList<SendSignerMail> mails, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (mails.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var queue = await context.GetSendEndpoint(new Uri($"queue:{mailQueue}"));
                await Task.WhenAll(mails.Chunk(MailsPerMessage).Select(chunk => queue.Send(new SendSignerMails { Mails = chunk }, context.CancellationToken)));
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * Math.Pow(2, Math.Min(attempt, 10))));
                LogSendFailed(logger, mails.Count, attempt, delay.TotalMilliseconds, e.GetType().Name);
                await Task.Delay(delay, context.CancellationToken);
            }
        }
    }

    [LoggerMessage(32, LogLevel.Warning, "{Count} signer mails not queued (attempt {Attempt}, {Reason}); retrying in {DelayMs} ms, the batch stays unacked")]
    private static partial void LogSendFailed(ILogger logger, int count, int attempt, double delayMs, string reason);
}
