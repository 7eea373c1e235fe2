using System.Net;
using Microsoft.Extensions.Options;
using MimeKit;
using Petition.Contracts;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Mailer.Sending;

/// <summary>
/// Writes a signer's mail, plain text and HTML, in the petition's language: the petition's title, and links to the
/// intake's pages (which act only when their button is pressed). Tokens ride in the link's fragment, which the page
/// reads and no server logs. The Message-Id is the request's, so a mail sent again across a crash is the same mail.
/// </summary>
internal sealed class SignerMailComposer(IOptions<MailerOptions> options, MailKeys keys, TimeProvider clock)
{
    private sealed record Texts(string Subject, string Greeting, string Action, string Button, string Other, string OtherLink, string Footer);

    private static readonly Dictionary<(string Language, SignerMailKind Kind), Texts> Wording = new()
    {
        [("en", SignerMailKind.Confirm)] = new(
            "Confirm your signature: {0}",
            "You, or someone using your email address, signed the petition “{0}”.",
            "Your signature counts once you confirm it. Open this link and press the button:",
            "Confirm my signature",
            "This wasn't you? Open this link to remove the signature:",
            "This wasn't me",
            "The link works for {1} more days. If you do nothing, the signature is deleted then."),
        [("en", SignerMailKind.AlreadySigned)] = new(
            "You have already signed: {0}",
            "Someone just signed the petition “{0}” with your email address.",
            "You had signed it already, and your signature counts once, as before: nothing has changed.",
            "",
            "Want to withdraw your signature? Open this link and press the button:",
            "Withdraw my signature",
            "If you did not sign again, you can ignore this mail."),
        [("ko", SignerMailKind.Confirm)] = new(
            "서명을 확인해 주세요: {0}",
            "회원님 또는 회원님의 이메일 주소를 사용한 누군가가 “{0}” 청원에 서명했습니다.",
            "서명은 확인 후에 집계됩니다. 아래 링크를 열고 버튼을 눌러 주세요:",
            "서명 확인하기",
            "본인이 아니신가요? 아래 링크를 열어 서명을 삭제하세요:",
            "본인이 아닙니다",
            "링크는 앞으로 {1}일 동안 유효합니다. 확인하지 않으면 서명은 그때 삭제됩니다."),
        [("ko", SignerMailKind.AlreadySigned)] = new(
            "이미 서명하셨습니다: {0}",
            "방금 누군가가 회원님의 이메일 주소로 “{0}” 청원에 서명했습니다.",
            "회원님은 이미 서명하셨으며, 서명은 이전과 같이 한 번만 집계됩니다. 달라진 것은 없습니다.",
            "",
            "서명을 철회하시려면 아래 링크를 열고 버튼을 눌러 주세요:",
            "서명 철회하기",
            "다시 서명하지 않으셨다면 이 메일은 무시하셔도 됩니다."),
    };

    public MimeMessage Compose(SendSignerMail request, string email, PetitionRecord petition)
    {
        var language = Wording.ContainsKey((petition.Language, request.Kind)) ? petition.Language : PetitionLanguages.Default;
        var t = Wording[(language, request.Kind)];
        var withdraw = Link("withdraw", request.SignatureId, keys.Withdrawal.For(request.SignatureId), petition.PetitionId, language);
        var confirm = request.Kind == SignerMailKind.Confirm
            ? Link("confirm", request.SignatureId, keys.Confirmation.For(request.SignatureId), petition.PetitionId, language)
            : null;
        var title = petition.Title;
        var footer = Format(t.Footer, title, DaysLeft(request.SignatureId));

        var text = string.Join("\n\n", new[]
        {
            Format(t.Greeting, title), t.Action, confirm, t.Other, withdraw, footer,
        }.Where(line => !string.IsNullOrEmpty(line))) + "\n";
        var html = $"""
            <!doctype html><html lang="{language}"><body style="font-family:sans-serif;line-height:1.5">
            <p>{Html(Format(t.Greeting, title))}</p>
            <p>{Html(t.Action)}</p>
            {(confirm is null ? "" : $"<p><a href=\"{Html(confirm)}\" style=\"background:#0b5cad;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none\">{Html(t.Button)}</a></p>")}
            <p>{Html(t.Other)} <a href="{Html(withdraw)}">{Html(t.OtherLink)}</a></p>
            <p style="color:#666">{Html(footer)}</p>
            </body></html>
            """;

        var message = new MimeMessage { Subject = Format(t.Subject, title) };
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        message.To.Add(MailboxAddress.Parse(email));
        message.MessageId = $"{request.RequestId:N}.{request.Kind.ToString().ToLowerInvariant()}@petition.mail";
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    private string Link(string page, Guid signatureId, string token, Guid petitionId, string language) =>
        new Uri(options.Value.LinkBase, $"/{page}#id={signatureId}&token={token}&petition={petitionId}&lang={language}").ToString();

    // The link lives from its signature's minting (a repeat's mail carries the first signature's, which is older).
    private double DaysLeft(Guid signatureId)
    {
        var minted = SignatureIds.MintedAtUnixMs(signatureId) is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : clock.GetUtcNow();
        return Math.Max(1, Math.Ceiling((minted + options.Value.ConfirmationLifetime - clock.GetUtcNow()).TotalDays));
    }

    private static string Format(string text, string title, double days = 0) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, text, title, days);

    private static string Html(string value) => WebUtility.HtmlEncode(value);
}
