using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Target;

namespace Petition.LoadTests.Scenarios;

/// <summary>What the confirmation run measured: mails through the relay, and confirmations accepted and stored.</summary>
internal sealed record ConfirmationResult(
    int Signers, int Signed, int Mailed, double MailsPerSecond, double ConfirmPostsPerSecond, double ConfirmedPerSecond,
    long Total, long Pending, SigningCost WithMail, SigningCost WithoutMail, IReadOnlyList<string> Findings)
{
    public bool Passed => Findings.Count == 0;
}

/// <summary>The same signers signing a petition, with or without confirmation mail: accepted/s, and stored/s (to the last row committed).</summary>
internal sealed record SigningCost(double AcceptedPerSecond, double StoredPerSecond);

/// <summary>
/// Verified signers under load: <c>signers</c> sign a petition that asks for email confirmation (64 at a time), the
/// mailer drains the mails through Postfix into the local mailbox (mails/s: from the first mail written to the last),
/// then every signer's confirm link is "pressed" (its token POSTed, 64 at a time: posts/s), and the run waits until
/// the total counts them all (confirmed/s: from the first POST until COUNT(*) says so). Verified: one mail per signer,
/// total = COUNT(*) of confirmed signatures = signers, pending 0. First, as a control, the same number of signers sign a
/// petition that asks for no confirmation, with the same loop: what the mails cost the signing path is the ratio.
/// </summary>
internal static partial class ConfirmationScenario
{
    private const int Lanes = 64;

    public static async Task<ConfirmationResult> RunAsync(Settings settings, string mailbox, TextWriter log, CancellationToken cancellationToken, int signers = 3_000)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        using var intake = new IntakeClient(settings.Intake, settings.AdminKey, Lanes);
        var petition = await intake.CreatePetitionAsync($"confirmations {run}", cancellationToken, confirmation: "email");
        var findings = new List<string>();
        await using var db = NpgsqlDataSource.Create(settings.Postgres);

        var control = await intake.CreatePetitionAsync($"confirmations control {run}", cancellationToken);
        var (withoutMail, _) = await SignAllAsync(intake, db, control, $"{run}c", signers, cancellationToken);
        var (withMail, signed) = await SignAllAsync(intake, db, petition, run, signers, cancellationToken);
        if (signed != signers) findings.Add($"{signers - signed} of {signers} signatures not accepted");
        log.WriteLine($"[confirm] {signed} signed: {withMail.AcceptedPerSecond:F0}/s accepted, {withMail.StoredPerSecond:F0}/s stored (without mail {withoutMail.AcceptedPerSecond:F0}/s, {withoutMail.StoredPerSecond:F0}/s); waiting for their mails in {mailbox}");

        var mails = new Mailbox(mailbox, $"load-{run}-");
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 300;
        while (mails.Read() < signed && Stopwatch.GetTimestamp() < deadline) await Task.Delay(250, cancellationToken);
        await Task.Delay(1_000, cancellationToken); // a second copy of any would have landed by now
        mails.Read();
        var links = mails.Links;
        var mailSeconds = (mails.Last - mails.First).TotalSeconds;
        var mailsPerSecond = mailSeconds > 0 ? links.Count / mailSeconds : 0;
        if (mails.Recipients != signed) findings.Add($"mails reached {mails.Recipients} of {signed} signers");
        if (mails.Count != mails.Recipients) findings.Add($"{mails.Count - mails.Recipients} mails sent twice");
        log.WriteLine($"[confirm] {mails.Count} mails, {mailsPerSecond:F0}/s; confirming");

        var ids = links.ToArray();
        var posting = Stopwatch.GetTimestamp();
        var confirming = await new ClosedLoop(Lanes, TimeSpan.FromMinutes(2), ids.Length).RunAsync(
            (n, token) => intake.ConfirmAsync(ids[n].Key, ids[n].Value, token), cancellationToken);
        var postsPerSecond = confirming.Elapsed.TotalSeconds > 0 ? confirming.Count(Outcome.Accepted) / confirming.Elapsed.TotalSeconds : 0;
        if (confirming.Count(Outcome.Accepted) != ids.Length) findings.Add($"{ids.Length - confirming.Count(Outcome.Accepted)} confirmations not accepted");

        (long Total, long Pending, long Counted) totals = default;
        deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            totals = await TotalsAsync(db, petition, cancellationToken);
            if (totals.Total >= ids.Length) break;
            await Task.Delay(50, cancellationToken);
        }

        var confirmedSeconds = Stopwatch.GetElapsedTime(posting).TotalSeconds;
        await Task.Delay(500, cancellationToken); // anything still in flight would show now
        totals = await TotalsAsync(db, petition, cancellationToken);
        if (totals.Total != totals.Counted) findings.Add($"total {totals.Total} but COUNT(*) of confirmed signatures {totals.Counted}");
        if (totals.Total != signed) findings.Add($"total {totals.Total} for {signed} signers who confirmed");
        if (totals.Pending != 0) findings.Add($"pending {totals.Pending} after every signer confirmed");
        var result = new ConfirmationResult(signers, signed, mails.Count, mailsPerSecond, postsPerSecond,
            totals.Total / Math.Max(confirmedSeconds, 0.001), totals.Total, totals.Pending, withMail, withoutMail, findings);
        log.WriteLine($"[confirm] {postsPerSecond:F0} confirmations/s accepted, {result.ConfirmedPerSecond:F0}/s counted; {(result.Passed ? "verified" : string.Join("; ", findings))}");
        return result;
    }

    // Signs them all with the same loop, and waits until every row is stored (counted or awaiting).
    private static async Task<(SigningCost Cost, int Accepted)> SignAllAsync(
        IntakeClient intake, NpgsqlDataSource db, Guid petition, string run, int signers, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var signing = await new ClosedLoop(Lanes, TimeSpan.FromMinutes(2), signers).RunAsync(
            (n, token) => intake.SignAsync(petition, Signers.Body(run, n), token), cancellationToken);
        var accepted = (int)signing.Count(Outcome.Accepted);
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await using var command = db.CreateCommand("SELECT count(*) FROM signatures WHERE petition_id = @p");
            command.Parameters.AddWithValue("p", petition);
            if ((long)(await command.ExecuteScalarAsync(cancellationToken))! >= accepted) break;
            await Task.Delay(20, cancellationToken);
        }

        var stored = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (new SigningCost(accepted / signing.Elapsed.TotalSeconds, accepted / stored), accepted);
    }

    private static async Task<(long Total, long Pending, long Counted)> TotalsAsync(NpgsqlDataSource db, Guid petition, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT t.total, t.pending,
                   (SELECT count(*) FROM signatures s WHERE s.petition_id = t.petition_id AND s.invalidated_by IS NULL AND NOT s.awaiting_confirmation)
            FROM petition_totals t WHERE t.petition_id = @p
            """);
        command.Parameters.AddWithValue("p", petition);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>The Maildir Postfix delivers into, read incrementally: each new file once, for this run's recipients.</summary>
    private sealed class Mailbox(string folder, string recipientPrefix)
    {
        private readonly HashSet<string> _seen = [];
        private readonly HashSet<string> _recipients = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Distinct recipients of this run's mails so far.</summary>
        public int Recipients => _recipients.Count;

        public Dictionary<Guid, string> Links { get; } = [];

        public int Count { get; private set; }

        public DateTime First { get; private set; } = DateTime.MaxValue;

        public DateTime Last { get; private set; } = DateTime.MinValue;

        public int Read()
        {
            var folderNew = Path.Combine(folder, "new");
            if (!Directory.Exists(folderNew)) return Recipients;
            foreach (var file in Directory.EnumerateFiles(folderNew))
            {
                if (!_seen.Add(file)) continue;
                var text = File.ReadAllText(file);
                var to = DeliveredTo().Match(text);
                if (!to.Success || !to.Groups[1].Value.StartsWith(recipientPrefix, StringComparison.OrdinalIgnoreCase)) continue;
                Count++;
                _recipients.Add(to.Groups[1].Value);
                var written = File.GetLastWriteTimeUtc(file);
                if (written < First) First = written;
                if (written > Last) Last = written;
                if (ConfirmLink().Match(text) is { Success: true } link) Links[Guid.Parse(link.Groups["id"].Value)] = link.Groups["token"].Value;
            }

            return Recipients;
        }
    }

    [GeneratedRegex(@"^Delivered-To: (\S+)", RegexOptions.Multiline)]
    private static partial Regex DeliveredTo();

    [GeneratedRegex(@"/confirm#id=(?<id>[0-9a-f-]{36})&token=(?<token>[A-Za-z0-9_-]+)&")]
    private static partial Regex ConfirmLink();
}
