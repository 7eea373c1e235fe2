using MailKit.Net.Smtp;
using MimeKit;
using Petition.Testing;

namespace Petition.Mail.Tests;

/// <summary>
/// The Postfix that servers.sh starts for the local run and the tests: real SMTP on 127.0.0.1, delivered to the
/// mailbox the tests read, refusing at RCPT what a real relay would refuse. What the mailer will rely on.
/// </summary>
public sealed class RelayTests
{
    [Fact]
    public async Task A_multipart_Korean_mail_sent_with_MailKit_arrives_in_the_local_mailbox_intact()
    {
        var recipient = $"signer-{Guid.NewGuid():N}@example.org";
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("탈북민 강제북송 반대 청원", "petitions@petition.localhost"));
        message.To.Add(MailboxAddress.Parse(recipient));
        message.Subject = "서명을 확인해 주세요";
        message.Body = new BodyBuilder { TextBody = "확인 링크: https://example.org/confirm#t", HtmlBody = "<p><a href=\"https://example.org/confirm#t\">확인</a></p>" }.ToMessageBody();

        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync(LocalMailbox.Host, LocalMailbox.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(quit: true);
        }

        var delivered = Assert.Single(await LocalMailbox.WaitForAsync(recipient, TimeSpan.FromSeconds(30)));
        Assert.Equal("서명을 확인해 주세요", delivered.Subject);
        Assert.Equal("확인 링크: https://example.org/confirm#t", delivered.TextBody?.Trim());
        Assert.Contains("<a href=\"https://example.org/confirm#t\">확인</a>", delivered.HtmlBody, StringComparison.Ordinal);
        Assert.Equal(message.MessageId, delivered.MessageId);
    }

    [Fact]
    public async Task A_recipient_the_relay_does_not_know_is_refused_permanently_at_rcpt()
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("petitions@petition.localhost"));
        message.To.Add(MailboxAddress.Parse($"nobody-{Guid.NewGuid():N}@{LocalMailbox.UndeliverableDomain}"));
        message.Subject = "x";
        message.Body = new TextPart("plain") { Text = "x" };

        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(LocalMailbox.Host, LocalMailbox.SmtpPort, MailKit.Security.SecureSocketOptions.None);
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => smtp.SendAsync(message));

        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, refused.ErrorCode);
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, refused.StatusCode); // 550: permanent, never retried
    }
}
