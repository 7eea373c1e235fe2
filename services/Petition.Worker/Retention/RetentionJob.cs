using MassTransit;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Storage;
using Petition.Worker.Dedup;

namespace Petition.Worker.Retention;

/// <summary>How long signers' details outlive their petition (section "Retention").</summary>
public sealed class RetentionOptions
{
    /// <summary>Days after a petition closes before its signatures are anonymised.</summary>
    public int AnonymiseAfterDays { get; set; } = 90;

    /// <summary>How often the job looks for petitions that are due.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often signatures left unconfirmed past <see cref="ConfirmationLifetime"/> are looked for.</summary>
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a signature may await its signer's confirmation before it is purged (the intake's Petition:ConfirmationLifetime, which its links live).</summary>
    public TimeSpan ConfirmationLifetime { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>
/// The scheduled anonymisation: every <see cref="RetentionOptions.Interval"/>, the signatures of petitions
/// closed more than <see cref="RetentionOptions.AnonymiseAfterDays"/> days ago lose names, emails and
/// addresses (see <see cref="SignatureRetention"/>); and every <see cref="RetentionOptions.ExpiryInterval"/>,
/// signatures left unconfirmed past their link's life are purged. Every worker runs both; the work is idempotent.
/// </summary>
public sealed partial class RetentionJob(
    SignatureRetention retention, SignatureAdministration administration, IDedupCache cache, IBus bus,
    IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionJob> logger) : BackgroundService
{
    private const int ExpiredPerStep = 5_000;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(EveryAsync(options.Value.Interval, AnonymiseDueAsync, stoppingToken), EveryAsync(options.Value.ExpiryInterval, ExpireUnconfirmedAsync, stoppingToken));

    // Whatever failed (PostgreSQL, Redis, the broker), the worker keeps storing; the next run finishes the job.
    private async Task EveryAsync(TimeSpan interval, Func<CancellationToken, Task> job, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await job(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // A petition is marked anonymised only once its rows and its cache entries are gone.
    private async Task AnonymiseDueAsync(CancellationToken stoppingToken)
    {
        var before = clock.GetUtcNow() - TimeSpan.FromDays(options.Value.AnonymiseAfterDays);
        foreach (var petition in await retention.DueAsync(before, stoppingToken))
        {
            var rows = await retention.AnonymiseAsync(petition, stoppingToken);
            // The dedup cache still ties keyed email hashes to the petition: dropped before the mark.
            await cache.ForgetPetitionAsync(petition);
            await retention.MarkAnonymisedAsync(petition, stoppingToken);
            LogAnonymised(logger, rows, options.Value.AnonymiseAfterDays);
        }
    }

    // Signatures never confirmed, past their link's life: purged in steps (each its own short transaction), their
    // signers sent to be forgotten by the dedup cache (the durable command a withdrawal sends, so a Redis outage
    // now does not leave them there), and the lower pending published for the counters. Every minute, so a signer
    // whose link just expired, told to sign again, is free to within a minute (until then a new signature would
    // repeat the expired one).
    private async Task ExpireUnconfirmedAsync(CancellationToken stoppingToken)
    {
        var before = clock.GetUtcNow() - options.Value.ConfirmationLifetime;
        long expired = 0;
        for (var step = ExpiredPerStep; step > 0;)
        {
            var outcome = await administration.ExpireUnconfirmedAsync(before, ExpiredPerStep, stoppingToken);
            expired += outcome.Affected;
            step = (int)outcome.Affected;
            if (outcome.Removed.Count > 0)
            {
                var forget = await bus.GetSendEndpoint(new Uri($"queue:{QueueNames.ForgetSigners}"));
                await forget.Send(new ForgetSigners { Signers = [.. outcome.Removed.Select(r => new SignerToForget(r.PetitionId, r.DedupKey))] }, stoppingToken);
            }

            await Task.WhenAll(outcome.Totals.Select(t => bus.Publish(t.ToChangedEvent(), stoppingToken)));
        }

        if (expired > 0) LogExpired(logger, expired, options.Value.ConfirmationLifetime.TotalDays);
    }

    [LoggerMessage(23, LogLevel.Information, "Retention: {Rows} signatures and repeats unconfirmed after {Days} days purged")]
    private static partial void LogExpired(ILogger logger, long rows, double days);

    [LoggerMessage(21, LogLevel.Information, "Retention: {Rows} signatures of petitions closed over {Days} days ago anonymised")]
    private static partial void LogAnonymised(ILogger logger, long rows, int days);

    [LoggerMessage(22, LogLevel.Warning, "Retention run failed; retried at the next interval: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
