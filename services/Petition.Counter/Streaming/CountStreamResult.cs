using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Petition.Counter.Counting;

namespace Petition.Counter.Streaming;

/// <summary>
/// A Server-Sent Events stream of one petition's totals: the current figure at once (also to a client
/// reconnecting with Last-Event-ID), then every change, and a comment line as heartbeat. Each event's id
/// is the totals' version; a repair at the same version is sent too. Written by hand because SseItem has no
/// comment lines for heartbeats. The stream holds <paramref name="ticket"/> (its place under the caps) until it ends.
/// </summary>
public sealed class CountStreamResult(Guid petitionId, PetitionCounts counts, CountBroadcaster broadcaster, StreamAdmission.Ticket ticket, JsonSerializerOptions json) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var held = ticket;
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-transform";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx and friends: do not buffer the stream
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var lifetime = httpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, lifetime.ApplicationStopping);
        var cancellationToken = ended.Token;
        // Subscribed before the snapshot is taken: a change landing between the two is pushed, never lost.
        using var subscription = broadcaster.Subscribe(petitionId);
        try
        {
            await WriteAsync(response, Retry, cancellationToken);
            var sent = CountEvent.Of(counts.Find(petitionId)!, json);
            await WriteAsync(response, sent.Bytes, cancellationToken);
            while (await subscription.WaitAsync(cancellationToken))
            {
                var (latest, heartbeat) = subscription.Take();
                if (latest is not null && latest.Supersedes(sent))
                {
                    await WriteAsync(response, latest.Bytes, cancellationToken);
                    sent = latest;
                }
                else if (heartbeat)
                {
                    await WriteAsync(response, Heartbeat, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left, or the counter is stopping: the client reconnects and gets the current totals.
        }
    }

    private static readonly byte[] Retry = Encoding.UTF8.GetBytes("retry: 2000\n\n");
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": heartbeat\n\n");

    private static async Task WriteAsync(HttpResponse response, byte[] bytes, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(bytes, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
