using MimeKit;

namespace Petition.Testing;

/// <summary>
/// The test servers' Postfix (deploy/local/servers.sh start_postfix): it takes mail on 127.0.0.1:PETITION_SMTP_PORT
/// and delivers every recipient, whatever the domain, to one Maildir; this reads that Maildir as a signer reads
/// their inbox. Each recipient's copy is a file of its own, with the Delivered-To header Postfix adds.
/// </summary>
public static class LocalMailbox
{
    /// <summary>The domain the relay refuses at RCPT with 550, as a real one refuses a mailbox that does not exist.</summary>
    public const string UndeliverableDomain = "undeliverable.test";

    public static string Host => "127.0.0.1";

    public static int SmtpPort
    {
        get
        {
            TestServers.EnsureStarted();
            return int.Parse(Environment.GetEnvironmentVariable("PETITION_SMTP_PORT")!, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public static string Folder => Path.Combine(TestServers.DataFolder, "postfix", "mail", "inbox");

    /// <summary>Every message delivered to <paramref name="recipient"/> so far, oldest first.</summary>
    public static IReadOnlyList<MimeMessage> For(string recipient) =>
        new[] { "new", "cur" }.Select(sub => Path.Combine(Folder, sub)).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Select(file => (File: file, Written: File.GetLastWriteTimeUtc(file)))
            .OrderBy(f => f.Written)
            .Select(f => MimeMessage.Load(f.File))
            .Where(m => string.Equals(m.Headers["Delivered-To"], recipient, StringComparison.OrdinalIgnoreCase))
            .ToList();

    /// <summary>Waits until <paramref name="count"/> messages were delivered to <paramref name="recipient"/>, and returns them.</summary>
    public static async Task<IReadOnlyList<MimeMessage>> WaitForAsync(string recipient, TimeSpan timeout, int count = 1)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = For(recipient);
            if (messages.Count >= count) return messages;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{messages.Count} of {count} messages reached the mailbox within {timeout.TotalSeconds:F0} s.");
            await Task.Delay(100);
        }
    }
}
