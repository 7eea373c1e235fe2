using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using Petition.Signing;
using Petition.Testing;

namespace Petition.Mail.Tests;

/// <summary>
/// The whole system on the real servers, mailing through the tests' Postfix: the in-process intake and one of its
/// own on a port (the mailed links open its pages), a worker, a mailer and a counter.
/// </summary>
public sealed class MailingSystem : PetitionSystem
{
    public ServiceProcess IntakeProcess { get; private set; } = null!;

    public ServiceProcess Mailer { get; private set; } = null!;

    public ServiceProcess Counter { get; private set; } = null!;

    protected override Uri? CounterUrl => Counter?.Url;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartWorker();
        IntakeProcess = StartIntake();
        Mailer = StartMailer(new Dictionary<string, string> { ["Mail:LinkBase"] = IntakeProcess.Url!.ToString() });
        Counter = StartCounter();
        foreach (var service in new[] { IntakeProcess, Mailer, Counter }) await service.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
    }
}

/// <summary>
/// Verified signers, end to end: sign, read the mail Postfix delivered, press Confirm (a POST with the link's
/// token), and the signature counts, once. A repeat reads the same answers and gets an "already signed" mail.
/// </summary>
public sealed partial class ConfirmationTests(MailingSystem system) : IClassFixture<MailingSystem>
{
    private static readonly TimeSpan MailWait = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_signer_counts_only_once_they_press_confirm_on_the_page_the_mailed_link_opens_and_only_once()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email", language: "ko", title: "강제북송 반대");
        var signer = Signer.Unique();
        var signed = await SignAsync(petition, signer);
        Assert.Equal("email", signed.GetProperty("confirmation").GetString());

        var mail = Assert.Single(await LocalMailbox.WaitForAsync(signer.Email, MailWait));
        Assert.Equal("서명을 확인해 주세요: 강제북송 반대", mail.Subject);
        Assert.Contains("강제북송 반대", mail.HtmlBody, StringComparison.Ordinal);
        var confirm = Link(mail, "confirm");
        Assert.Equal(signed.GetProperty("signatureId").GetGuid(), confirm.Id);
        Assert.Equal(confirm.Id, Link(mail, "withdraw").Id); // "this wasn't me" withdraws this very signature

        var awaiting = await PetitionSystem.CountsAsync(petition);
        Assert.Equal((0L, 1L, 1L, 0L), (awaiting.Rows, awaiting.Awaiting, awaiting.Pending, awaiting.Total));

        // The link opens a page; opening it (even with the token as a query, as a scanner might send) changes nothing.
        var page = await system.Client.GetAsync($"/confirm?id={confirm.Id}&token={confirm.Token}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        await Task.Delay(1_500);
        Assert.Equal(0, (await PetitionSystem.CountsAsync(petition)).Total);

        Assert.Equal(HttpStatusCode.Accepted, (await ConfirmAsync(confirm.Id, confirm.Token)).StatusCode);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, (await PetitionSystem.CountsAsync(petition)).Pending);

        // Single use: pressing again is answered the same and counts nothing more.
        Assert.Equal(HttpStatusCode.Accepted, (await ConfirmAsync(confirm.Id, confirm.Token)).StatusCode);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
    }

    [Fact]
    public async Task A_repeat_gets_the_same_answers_as_a_new_signer_and_an_already_signed_mail_whose_link_withdraws_the_first()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        var signer = Signer.Unique();
        var first = await SignAsync(petition, signer);
        var confirm = Link(Assert.Single(await LocalMailbox.WaitForAsync(signer.Email, MailWait)), "confirm");
        await ConfirmAsync(confirm.Id, confirm.Token);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1, TimeSpan.FromSeconds(10));

        var again = await SignAsync(petition, signer.Again());
        Assert.Equal(Shape(first), Shape(again));
        Assert.Equal("pending", again.GetProperty("status").GetString());

        var mails = await LocalMailbox.WaitForAsync(signer.Email, MailWait, count: 2);
        var already = mails.Single(m => (m.Subject ?? "").StartsWith("You have already signed", StringComparison.Ordinal));
        Assert.DoesNotContain("/confirm#", already.TextBody, StringComparison.Ordinal);
        var withdraw = Link(already, "withdraw");
        Assert.Equal(first.GetProperty("signatureId").GetGuid(), withdraw.Id); // the mailbox's owner may withdraw the one that counts

        // Stored, both read the same to anyone; the repeat is in pending as a new signer would be, and counts nothing.
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).AwaitingRepeats == 1, TimeSpan.FromSeconds(10), "the repeat to be recorded");
        foreach (var id in new[] { first, again }.Select(s => s.GetProperty("signatureId").GetGuid()))
            Assert.Equal("received", (await system.Client.GetFromJsonAsync<JsonElement>($"/api/signatures/{id}")).GetProperty("status").GetString());
        var counts = await PetitionSystem.CountsAsync(petition);
        Assert.Equal((1L, 1L, 1L), (counts.Total, counts.Pending, counts.Rows));

        // The repeat's own token (from its 202) removes the repeat only; the mailed link removes the signature that counts.
        using (var repeat = Delete(again.GetProperty("signatureId").GetGuid(), again.GetProperty("withdrawalToken").GetString()!))
            Assert.Equal(HttpStatusCode.NoContent, (await system.Client.SendAsync(repeat)).StatusCode);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        using (var mailed = Delete(withdraw.Id, withdraw.Token))
            Assert.Equal(HttpStatusCode.NoContent, (await system.Client.SendAsync(mailed)).StatusCode);
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)) is { Total: 0, Pending: 0, Rows: 0 }, TimeSpan.FromSeconds(10), "both to be gone");
    }

    [Fact]
    public async Task A_probe_signing_in_a_persons_name_cannot_tell_whether_they_signed_from_answers_statuses_totals_or_timing()
    {
        const int Rounds = 60;
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        var victim = Signer.Unique();
        await SignAsync(petition, victim);
        var link = Link(Assert.Single(await LocalMailbox.WaitForAsync(victim.Email, MailWait)), "confirm");
        await ConfirmAsync(link.Id, link.Token);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1, TimeSpan.FromSeconds(10));

        // Interleaved, so both kinds meet the same machine: the victim's email (a repeat) and a stranger's (new).
        var answers = new List<(bool Repeat, System.Net.HttpStatusCode Status, string Shape, Guid Id, double Ms)>();
        for (var i = 0; i < Rounds * 2; i++)
        {
            var repeat = i % 2 == 0;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var response = await system.SignAsync(petition, repeat ? victim.Again() : Signer.Unique(i));
            var ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            answers.Add((repeat, response.StatusCode, Shape(body), body.GetProperty("signatureId").GetGuid(), ms));
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.Status));
        Assert.Single(answers.Select(a => a.Shape).Distinct());
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)) is { Awaiting: Rounds, AwaitingRepeats: Rounds },
            TimeSpan.FromSeconds(20), "every probe to be stored");
        // Every probe reads the same, and each added one to pending, none to the total.
        foreach (var probe in answers.Where((_, i) => i < 10))
            Assert.Equal("received", (await system.Client.GetFromJsonAsync<JsonElement>($"/api/signatures/{probe.Id}")).GetProperty("status").GetString());
        var counts = await PetitionSystem.CountsAsync(petition);
        Assert.Equal((1L, 2L * Rounds), (counts.Total, counts.Pending));

        // The answer is given before anything looks the signer up (the worker deduplicates), so its time cannot
        // depend on whether they signed; the medians agree within noise.
        double Median(bool repeat) => answers.Where(a => a.Repeat == repeat).Select(a => a.Ms).Order().ElementAt(Rounds / 2);
        var (repeats, strangers) = (Median(true), Median(false));
        Assert.True(Math.Abs(repeats - strangers) <= Math.Max(3, 0.3 * Math.Max(repeats, strangers)),
            $"median answer {repeats:F1} ms for a person who signed, {strangers:F1} ms for a stranger");
    }

    [Fact]
    public async Task Forged_expired_and_borrowed_tokens_confirm_nothing_and_say_why_without_touching_the_store()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        var signer = Signer.Unique();
        await SignAsync(petition, signer);
        var confirm = Link(Assert.Single(await LocalMailbox.WaitForAsync(signer.Email, MailWait)), "confirm");

        Assert.Equal(HttpStatusCode.Forbidden, (await ConfirmAsync(confirm.Id, "not-a-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ConfirmAsync(confirm.Id, "")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ConfirmAsync(Guid.CreateVersion7(), confirm.Token)).StatusCode); // another signature's
        var old = Guid.CreateVersion7(DateTimeOffset.UtcNow.AddDays(-8));
        var tokens = new ConfirmationTokens(TestServers.DedupSecret, TimeSpan.FromDays(7));
        var expired = await ConfirmAsync(old, tokens.For(old));
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Equal("application/problem+json", expired.Content.Headers.ContentType?.MediaType);

        await Task.Delay(1_500);
        var counts = await PetitionSystem.CountsAsync(petition);
        Assert.Equal((0L, 1L), (counts.Total, counts.Pending));
    }

    [Fact]
    public async Task Signing_again_and_again_in_someones_name_mails_them_at_most_three_times()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        var victim = Signer.Unique();
        for (var i = 0; i < 6; i++) await SignAsync(petition, i % 2 == 0 ? victim : victim.Again());

        await LocalMailbox.WaitForAsync(victim.Email, MailWait, count: 3);
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).AwaitingRepeats == 5, TimeSpan.FromSeconds(20), "every repeat to be stored");
        await AfterTheMailQueueAsync(petition); // the rest would have been sent by now
        var mails = LocalMailbox.For(victim.Email);
        Assert.Equal(3, mails.Count);
        // The first signature awaits still, so every mail is its confirm mail again: one link, whichever arrives.
        Assert.Single(mails.Select(m => Link(m, "confirm").Id).Distinct());
    }

    [Fact]
    public async Task Signing_many_petitions_in_someones_name_mails_them_at_most_ten_times_a_day()
    {
        var victim = Signer.Unique();
        for (var i = 0; i < 12; i++) await SignAsync(await system.CreatePetitionAsync(confirmation: "email"), victim);

        await LocalMailbox.WaitForAsync(victim.Email, MailWait, count: 10);
        await AfterTheMailQueueAsync(await system.CreatePetitionAsync(confirmation: "email"));
        Assert.Equal(10, LocalMailbox.For(victim.Email).Count);
    }

    [Fact]
    public async Task A_petition_that_trusts_its_site_counts_at_once_and_mails_nobody()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "none");
        var signer = Signer.Unique();
        var signed = await SignAsync(petition, signer);
        Assert.Equal("none", signed.GetProperty("confirmation").GetString());
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1, TimeSpan.FromSeconds(10));
        await AfterTheMailQueueAsync(await system.CreatePetitionAsync(confirmation: "email"));
        Assert.Empty(LocalMailbox.For(signer.Email));
    }

    [Fact]
    public async Task A_partner_key_allowed_to_vouch_signs_signers_who_count_at_once_and_any_other_partners_must_confirm()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        var (vouching, plain) = (Signer.Unique(), Signer.Unique());
        Assert.Equal(HttpStatusCode.BadRequest, (await system.Admin.PostAsJsonAsync("/api/admin/keys", new { name = "admin", scope = "admin", vouchesForSigners = true })).StatusCode);

        Assert.Equal("none", (await PartnerSignAsync(petition, vouching, await PartnerKeyAsync(vouches: true))).GetProperty("confirmation").GetString());
        Assert.Equal("email", (await PartnerSignAsync(petition, plain, await PartnerKeyAsync(vouches: false))).GetProperty("confirmation").GetString());

        await LocalMailbox.WaitForAsync(plain.Email, MailWait);
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)) is { Rows: 1, Awaiting: 1 }, TimeSpan.FromSeconds(10), "one counted, one awaiting");
        Assert.Empty(LocalMailbox.For(vouching.Email));
    }

    private async Task<string> PartnerKeyAsync(bool vouches)
    {
        var response = await system.Admin.PostAsJsonAsync("/api/admin/keys", new { name = "campaign site", scope = "partner", vouchesForSigners = vouches });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(vouches, key.GetProperty("vouchesForSigners").GetBoolean());
        return key.GetProperty("key").GetString()!;
    }

    private async Task<JsonElement> PartnerSignAsync(Guid petition, Signer signer, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(signer) };
        request.Headers.Add("X-Api-Key", key);
        request.Headers.Add("X-Visitor-Address", "203.0.113.9");
        var response = await system.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task An_address_the_relay_refuses_for_good_marks_the_signature_undeliverable()
    {
        var petition = await system.CreatePetitionAsync(confirmation: "email");
        await SignAsync(petition, new Signer("Nobody", $"nobody-{Guid.NewGuid():N}@{LocalMailbox.UndeliverableDomain}", "GB"));
        await PetitionSystem.WaitUntilAsync(async () => await UndeliverableAsync(petition) == 1, MailWait, "the signature to be marked undeliverable");
        Assert.Equal(0, (await PetitionSystem.CountsAsync(petition)).Total);
    }

    // A control signer signs after the others and its mail is waited for: the queue is taken in order (8 at a time),
    // so by a second after it arrives any mail of the signatures before it would have been sent too.
    private async Task AfterTheMailQueueAsync(Guid emailPetition)
    {
        var control = Signer.Unique();
        await SignAsync(emailPetition, control);
        await LocalMailbox.WaitForAsync(control.Email, MailWait);
        await Task.Delay(1_000);
    }

    private async Task<JsonElement> SignAsync(Guid petition, Signer signer)
    {
        var response = await system.SignAsync(petition, signer);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private Task<HttpResponseMessage> ConfirmAsync(Guid signatureId, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/signatures/{signatureId}/confirmation");
        request.Headers.Add("X-Confirmation-Token", token);
        return system.Client.SendAsync(request);
    }

    private static HttpRequestMessage Delete(Guid signatureId, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/signatures/{signatureId}");
        request.Headers.Add("X-Withdrawal-Token", token);
        return request;
    }

    private static string Shape(JsonElement body) =>
        string.Join(",", body.EnumerateObject().Select(p => p.Name + ":" + (p.Name is "signatureId" or "statusUrl" or "withdrawalToken" ? p.Value.ValueKind.ToString() : p.Value.ToString())));

    private static (Guid Id, string Token) Link(MimeMessage mail, string page)
    {
        var match = LinkPattern().Match(mail.TextBody ?? "");
        while (match.Success && match.Groups["page"].Value != page) match = match.NextMatch();
        Assert.True(match.Success, $"no /{page} link in: {mail.TextBody}");
        return (Guid.Parse(match.Groups["id"].Value), match.Groups["token"].Value);
    }

    private static async Task<long> UndeliverableAsync(Guid petition)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestServers.PostgresDatabase(PetitionSystem.Database));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM signatures WHERE petition_id = @p AND mail_undeliverable_at IS NOT NULL", connection);
        command.Parameters.AddWithValue("p", petition);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"/(?<page>confirm|withdraw)#id=(?<id>[0-9a-f-]{36})&token=(?<token>[A-Za-z0-9_-]+)&")]
    private static partial Regex LinkPattern();
}
