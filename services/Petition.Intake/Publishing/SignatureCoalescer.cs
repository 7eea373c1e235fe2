using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.ServiceDefaults;

namespace Petition.Intake.Publishing;

/// <summary>
/// Coalesces concurrent signatures into few broker messages, so throughput does not hinge on the broker's
/// per-message cost. Each caller still waits for the confirm of the message that holds its own signature.
/// </summary>
internal sealed class SignatureCoalescer(
    SignaturePublisher publisher, PublishAdmission admission, IOptions<CoalescingOptions> options, TimeProvider time, ILogger<SignatureCoalescer> logger)
    : BackgroundService
{
    private readonly CoalescingOptions _options = options.Value;
    // Wait is the one full mode in which TryWrite says "full" (false) rather than dropping something; nothing
    // ever awaits room (see SubmitAsync).
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private int _closed;

    private sealed record Pending(AcceptedSignature Signature)
    {
        public TaskCompletionSource Confirmed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Completes once the broker confirmed the signature; throws <see cref="BrokerUnavailableException"/>.</summary>
    public async Task SubmitAsync(AcceptedSignature signature, CancellationToken cancellationToken)
    {
        var pending = new Pending(signature);
        // Never waits for room: admission control keeps the queue short, and a full one is answered at once.
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new BrokerUnavailableException(Volatile.Read(ref _closed) == 1 ? "The intake is shutting down." : "The intake is at capacity.", null);
        }

        // Not cancelled with the request: once queued, the signature may yet become durable, and a
        // caller that went away simply never learns it (it will retry and be deduplicated).
        await pending.Confirmed.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inFlight = new SemaphoreSlim(_options.MaxInFlight);
        var reader = _queue.Reader;
        var lingerTicks = (long)(_options.Linger.TotalSeconds * time.TimestampFrequency);

        // Runs until the channel is completed and drained (see StopAsync), not until stoppingToken:
        // a signature already queued is sent, never abandoned.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            var batch = new List<Pending>(_options.MaxSignaturesPerMessage);
            var deadline = time.GetTimestamp() + lingerTicks;
            while (batch.Count < _options.MaxSignaturesPerMessage)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }

                var remaining = deadline - time.GetTimestamp();
                if (remaining <= 0 || stoppingToken.IsCancellationRequested) break;
                using var linger = new CancellationTokenSource(TimeSpan.FromSeconds((double)remaining / time.TimestampFrequency), time);
                try
                {
                    if (!await reader.WaitToReadAsync(linger.Token)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            if (batch.Count == 0) continue;
            await inFlight.WaitAsync(CancellationToken.None);
            _ = SendAsync(batch, inFlight);
        }

        // Wait for the last confirms before the bus is allowed to stop.
        for (var i = 0; i < _options.MaxInFlight; i++) await inFlight.WaitAsync(CancellationToken.None);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _closed, 1);
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private async Task SendAsync(List<Pending> batch, SemaphoreSlim inFlight)
    {
        Activity? activity = null;
        try
        {
            // In the trace of the first request it carries, linked to the others.
            var (parent, links) = PetitionTelemetry.ContinueFirst(batch.Select(p => p.Signature.TraceParent));
            activity = PetitionTelemetry.Source.StartActivity("signatures send", ActivityKind.Producer, parent,
                tags: [new("petition.signatures", batch.Count)], links: links);
            await publisher.SendAsync(batch.ConvertAll(p => p.Signature), CancellationToken.None);
            admission.Confirmed(batch.Count);
            foreach (var pending in batch) pending.Confirmed.TrySetResult();
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "not confirmed");
            logger.SendNotConfirmed(batch.Count, e.GetBaseException().Message);
            var failure = e as BrokerUnavailableException ?? new BrokerUnavailableException("The broker refused the message.", e);
            foreach (var pending in batch) pending.Confirmed.TrySetException(failure);
        }
        finally
        {
            activity?.Dispose();
            inFlight.Release();
        }
    }
}
