using MassTransit;
using Petition.Contracts;

namespace Petition.Worker.Dedup;

/// <summary>
/// Drops withdrawn and erased signers from the dedup cache, so nothing but PostgreSQL (which no longer has
/// them) ties their keyed email hash to the petition. Redis down: retried, then the error queue, never dropped.
/// </summary>
public sealed class ForgetSignersConsumer(IDedupCache cache) : IConsumer<ForgetSigners>
{
    public Task Consume(ConsumeContext<ForgetSigners> context) =>
        cache.ForgetAsync([.. context.Message.Signers.Select(s => (s.PetitionId, s.DedupKey))]);
}

/// <summary>The forget queue: its name, and retries that outlast a Redis restart.</summary>
public sealed class ForgetSignersConsumerDefinition : ConsumerDefinition<ForgetSignersConsumer>
{
    public ForgetSignersConsumerDefinition() => EndpointName = QueueNames.ForgetSigners;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ForgetSignersConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)));
}
