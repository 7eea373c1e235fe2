using MassTransit;

namespace Petition.Intake.Publishing;

/// <summary>
/// Ends a signature send at the broker's first refusal. MassTransit 8.5 turns a nack into a connection error
/// that it retries (seconds later, on the same channel) until the caller's token is cancelled, so a signer
/// would wait out the whole confirm timeout for an answer the broker has already given. Here a nacked send
/// is cancelled at once: the signer gets 503 with Retry-After, and the publisher replaces the channel.
/// </summary>
internal sealed class BrokerRefusals : ISendObserver
{
    public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class
    {
        if (SendChannelReset.IsNack(exception) && context.TryGetPayload<Watch>(out var watch)) watch.Refuse();
        return Task.CompletedTask;
    }

    /// <summary>Attached to a send (as a payload of its context): cancels it when the broker refuses it.</summary>
    internal sealed class Watch(CancellationTokenSource send)
    {
        private int _refused;

        public bool Refused => Volatile.Read(ref _refused) == 1;

        public void Refuse()
        {
            // Asynchronously: the callbacks on this token belong to MassTransit's send, which is still unwinding.
            if (Interlocked.Exchange(ref _refused, 1) == 0) _ = send.CancelAsync();
        }
    }
}
