using System.Collections.Concurrent;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Petition.Mailer.Sending;

/// <summary>
/// Sends through the configured relay with MailKit, keeping connections open between mails (one per mail being sent
/// at once): a new SMTP session per mail would cost a handshake each. A connection that failed in any way is dropped.
/// At most <see cref="MailerOptions.ConcurrencyLimit"/> mails are being sent at once, over every message the mailer holds.
/// </summary>
internal sealed class SmtpRelay(IOptions<MailerOptions> options) : IAsyncDisposable
{
    private readonly ConcurrentBag<SmtpClient> _idle = [];
    private readonly SemaphoreSlim _sending = new(options.Value.ConcurrencyLimit);

    /// <summary>
    /// Waits for a place (as long as <paramref name="waitCancellation"/> allows), then sends within <paramref name="deadline"/>:
    /// once a send has begun, only its deadline stops it (one stopped after DATA may have been taken, and would go twice).
    /// </summary>
    public async Task SendAsync(MimeMessage message, TimeSpan deadline, CancellationToken waitCancellation)
    {
        await _sending.WaitAsync(waitCancellation);
        try
        {
            using var sending = new CancellationTokenSource(deadline);
            var cancellationToken = sending.Token;
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
        finally
        {
            _sending.Release();
        }
    }

    private async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var client = new SmtpClient { Timeout = 10_000 };
        try
        {
            await client.ConnectAsync(o.SmtpHost, o.SmtpPort, o.Security, cancellationToken);
            if (!string.IsNullOrEmpty(o.Username)) await client.AuthenticateAsync(o.Username, o.Password ?? string.Empty, cancellationToken);
            return client;
        }
        catch (NotSupportedException)
        {
            // The relay offers no STARTTLS or AUTH where Mail:Security or Mail:Username ask for it: a setup to fix,
            // retried meanwhile, never taken for a fault of the mail being sent.
            client.Dispose();
            throw new MailRelayException("The relay does not offer what Mail:Security or Mail:Username ask for; retried.");
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
