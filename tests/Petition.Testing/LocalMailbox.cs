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

    /// <summary>Every message delivered to <paramref name="recipient"/> so far, oldest first (only its headers read for the others).</summary>
    public static IReadOnlyList<MimeMessage> For(string recipient) =>
        [.. Delivered().Where(m => string.Equals(m.Recipient, recipient, StringComparison.OrdinalIgnoreCase)).Select(m => MimeMessage.Load(m.File))];

    /// <summary>How many messages each recipient got so far, from the headers alone.</summary>
    public static IReadOnlyDictionary<string, int> CountByRecipient() =>
        Delivered().GroupBy(m => m.Recipient ?? "", StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);

    private static IEnumerable<(string File, string? Recipient)> Delivered() =>
        new[] { "new", "cur" }.Select(sub => Path.Combine(Folder, sub)).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles)
            .Select(file => (File: file, Written: File.GetLastWriteTimeUtc(file)))
            .OrderBy(f => f.Written)
            .Select(f => (f.File, Recipient: (string?)HeaderList.Load(f.File)["Delivered-To"]));

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
