using MassTransit;
using Microsoft.Extensions.Options;
using Petition.Messaging;
using Petition.Worker.Storing;
using Petition.Contracts;
using Petition.Storage;

namespace Petition.Worker.Confirming;

/// <summary>
/// Takes the confirmation queue in batches: every signature confirmed starts counting in one transaction
/// (<see cref="SignatureConfirmations"/>), the new totals are published, and the batch is acked only after the
/// commit, so a crash redelivers it; confirming again changes nothing.
/// </summary>
public sealed partial class ConfirmSignaturesConsumer(SignatureConfirmations confirmations, StoreRetry retry, ILogger<ConfirmSignaturesConsumer> logger)
    : IConsumer<Batch<ConfirmSignatures>>
{
    public async Task Consume(ConsumeContext<Batch<ConfirmSignatures>> context)
    {
        var ids = context.Message.SelectMany(m => m.Message.SignatureIds).Distinct().ToList();
        // A confirmation was answered 202: a PostgreSQL outage is waited out (unacked), as a batch of signatures is.
        var outcome = await retry.ExecuteAsync(ids.Count, token => confirmations.ConfirmAsync(ids, token), context.CancellationToken);
        WorkerMetrics.RecordConfirmed(outcome.Confirmed);
        try
        {
            await Task.WhenAll(outcome.Totals.Select(t => context.Publish(t.ToChangedEvent(), context.CancellationToken)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, outcome.Totals.Count, e.Message); // the counter's reconciliation catches up
        }
    }

    [LoggerMessage(31, LogLevel.Warning, "Totals events for {Count} petitions not published after confirmations (the counter reconciles): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, int count, string reason);
}

/// <summary>The confirmation queue: batches of up to 200 within 50 ms; PostgreSQL away, waited out by <see cref="StoreRetry"/>; anything else retried for minutes, then the error queue.</summary>
public sealed class ConfirmSignaturesConsumerDefinition : ConsumerDefinition<ConfirmSignaturesConsumer>
{
    private const int MessageLimit = 200;

    public ConfirmSignaturesConsumerDefinition(IOptions<MessagingOptions> messaging) => EndpointName = messaging.Value.ConfirmationQueue;

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ConfirmSignaturesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = MessageLimit * 2;
        endpointConfigurator.ConcurrentMessageLimit = MessageLimit;
        consumerConfigurator.Options<BatchOptions>(batch => batch.SetMessageLimit(MessageLimit).SetTimeLimit(TimeSpan.FromMilliseconds(50)).SetConcurrencyLimit(1));
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(
            TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)));
    }
}
