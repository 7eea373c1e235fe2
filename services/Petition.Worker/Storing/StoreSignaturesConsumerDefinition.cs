using MassTransit;
using Microsoft.Extensions.Options;
using Petition.Messaging;

namespace Petition.Worker.Storing;

/// <summary>The batch settings of the signature queue, in one place.</summary>
public sealed class StoreSignaturesConsumerDefinition : ConsumerDefinition<StoreSignaturesConsumer>
{
    private readonly WorkerOptions _options;

    public StoreSignaturesConsumerDefinition(IOptions<WorkerOptions> options, IOptions<MessagingOptions> messaging)
    {
        _options = options.Value;
        EndpointName = messaging.Value.SignatureQueue;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<StoreSignaturesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A batch is silently capped by the prefetch (MassTransit #2190, #5603): leave room for every
        // concurrent batch to fill, plus one more batch waiting.
        endpointConfigurator.PrefetchCount = _options.MessageLimit * (_options.ConcurrencyLimit + 1);
        endpointConfigurator.ConcurrentMessageLimit = _options.MessageLimit * _options.ConcurrencyLimit;
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.MessageLimit)
            .SetTimeLimit(_options.TimeLimit)
            .SetConcurrencyLimit(_options.ConcurrencyLimit));
        // No MassTransit retry: a PostgreSQL outage is waited out by StoreRetry while the consumer holds the batch
        // (unacked), and anything else is a poison batch for the error queue, with MassTransit's fault headers.
    }
}
