using System.Collections.Concurrent;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Petition.Mailer.Sending;

/// <summary>
/// Sends through the configured relay with MailKit, keeping connections open between mails (one per mail being sent
/// at once): a new SMTP session per mail would cost a handshake each. A connection that failed in any way is dropped.
/// </summary>
internal sealed class SmtpRelay(IOptions<MailerOptions> options) : IAsyncDisposable
{
    private readonly ConcurrentBag<SmtpClient> _idle = [];

    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var client = _idle.TryTake(out var open) && open.IsConnected ? open : await ConnectAsync(cancellationToken);
        try
        {
            await client.SendAsync(message, cancellationToken);
        }
        catch
        {
            await DropAsync(client);
            throw;
        }

        _idle.Add(client);
    }

    private async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(o.SmtpHost, o.SmtpPort, o.Security, cancellationToken);
            if (!string.IsNullOrEmpty(o.Username)) await client.AuthenticateAsync(o.Username, o.Password ?? string.Empty, cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task DropAsync(SmtpClient client)
    {
        try
        {
            if (client.IsConnected) await client.DisconnectAsync(quit: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // It is going anyway.
        }

        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var client))
        {
            try
            {
                await client.DisconnectAsync(quit: true);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Shutting down: the relay closes it.
            }

            client.Dispose();
        }
    }
}
