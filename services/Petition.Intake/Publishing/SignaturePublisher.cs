using MassTransit;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Messaging;

namespace Petition.Intake.Publishing;

/// <summary>The broker refused, or did not confirm in time: nothing may be reported as accepted.</summary>
internal sealed class BrokerUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>
/// Where a signature becomes durable: sends signatures to the signature queue as persistent messages and
/// completes only when RabbitMQ has confirmed every one of them.
/// </summary>
internal sealed class SignaturePublisher(IBus bus, SendChannelReset channelReset, IOptions<MessagingOptions> messaging, IOptions<CoalescingOptions> coalescing)
{
    private readonly Uri _queue = messaging.Value.SignatureQueueAddress;
    private readonly TimeSpan _confirmTimeout = messaging.Value.ConfirmTimeout;
    private readonly int _perMessage = coalescing.Value.MaxSignaturesPerMessage;

    /// <summary>Sends the signatures in messages of at most MaxSignaturesPerMessage; throws <see cref="BrokerUnavailableException"/>.</summary>
    public async Task SendAsync(IReadOnlyList<AcceptedSignature> signatures, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_confirmTimeout);
        var refusal = new BrokerRefusals.Watch(timeout);
        try
        {
            // Send to the queue, not publish to an exchange: sending declares and binds the durable queue,
            // so a confirmed message is never one the broker dropped for want of a consumer's binding.
            var endpoint = await bus.GetSendEndpoint(_queue);
            await Task.WhenAll(signatures.Chunk(_perMessage).Select(async chunk =>
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                await endpoint.Send(new StoreSignatures { BatchId = NewId.NextGuid(), Signatures = chunk }, context =>
                {
                    context.Durable = true;
                    // Mandatory: a message the broker could not route is returned, not confirmed.
                    if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit)) rabbit.Mandatory = true;
                    context.GetOrAddPayload(() => refusal);
                }, timeout.Token);
                IntakeMetrics.RecordSent(chunk.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }));
        }
        catch (Exception e) when (e is not BrokerUnavailableException)
        {
            var refused = refusal.Refused || SendChannelReset.IsNack(e);
            var late = !refused && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
            // A nack, or no confirm in time while the caller still waits: either can mean a channel that will
            // never confirm again (RabbitMQ 3.10 after a quorum leader change; rabbitmq-dotnet-client #1930
            // after a broker restart), so it is replaced.
            // Not awaited: the signer's 503 does not wait for the channel to be replaced.
            if (refused || late) _ = channelReset.AfterNackAsync();
            throw new BrokerUnavailableException(late ? "The broker did not confirm in time." : "The broker refused the message.", e);
        }
    }
}
