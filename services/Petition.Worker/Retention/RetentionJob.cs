using Microsoft.Extensions.Options;
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
}

/// <summary>
/// The scheduled anonymisation: every <see cref="RetentionOptions.Interval"/>, the signatures of petitions
/// closed more than <see cref="RetentionOptions.AnonymiseAfterDays"/> days ago lose names, emails and
/// addresses (see <see cref="SignatureRetention"/>). Every worker runs it; the work is idempotent.
/// </summary>
public sealed partial class RetentionJob(
    SignatureRetention retention, IDedupCache cache, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            try
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
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Whatever failed (PostgreSQL, Redis), the worker keeps storing; the next run finishes the job,
                // since a petition is marked anonymised only once its rows and its cache entries are gone.
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(21, LogLevel.Information, "Retention: {Rows} signatures of petitions closed over {Days} days ago anonymised")]
    private static partial void LogAnonymised(ILogger logger, long rows, int days);

    [LoggerMessage(22, LogLevel.Warning, "Retention run failed; retried at the next interval: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
