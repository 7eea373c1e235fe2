using System.Diagnostics;
using MassTransit;

namespace Petition.Intake.Publishing;

/// <summary>
/// Replaces the broker channel the intake sends on after the broker nacked a send. Works around RabbitMQ
/// 3.10 (Debian's): a channel whose first publish to a quorum queue arrives while the queue elects a new
/// leader (the old leader's node just stopped) never learns the new leader and nacks every later publish
/// to that queue until the old node returns, while a new channel is fine (reproduced here, about one stop
/// in four). MassTransit sends on one shared channel and opens a new one only when the broker closes it
/// (8.5 repeats a nacked publish on the same channel), so this makes the broker close it: declaring an
/// exchange under the reserved "amq." prefix is refused (403, channel-level). Signers meanwhile get 503 and
/// retry; nothing is ever reported accepted. It is also used when a send is not confirmed in time: a publish
/// can hang after a broker restart (rabbitmq-dotnet-client #1930, open upstream). While the broker is down,
/// the attempt fails fast and costs nothing.
/// </summary>
internal sealed class SendChannelReset(IBus bus, ILogger<SendChannelReset> logger)
{
    private static readonly Uri Refused = new("exchange:amq.petition-reset-channel");
    private static readonly long MinInterval = Stopwatch.Frequency; // once a second, however many sends fail together

    private long _last = -MinInterval;

    /// <summary>A basic.nack from the broker (a returned, unroutable message is not one).</summary>
    public static bool IsNack(Exception e) => e.GetBaseException() is RabbitMQ.Client.Exceptions.PublishException { IsReturn: false };

    public async Task AfterNackAsync()
    {
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Read(ref _last);
        if (now - last < MinInterval || Interlocked.CompareExchange(ref _last, now, last) != last) return;

        logger.ReplacingSendChannel();
        try
        {
            // The broker refuses within milliseconds; MassTransit would repeat the refused declare a second later.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var endpoint = await bus.GetSendEndpoint(Refused);
            await endpoint.Send(new ResetChannel(), timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The refusal is the point: the broker closed the channel, and the next send opens a new one.
        }
    }

    /// <summary>Never delivered: the exchange it is sent to cannot exist.</summary>
    internal sealed record ResetChannel;
}
