using Microsoft.Extensions.Options;
using Npgsql;
using Petition.Storage;

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
    SignatureRetention retention, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<RetentionJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            try
            {
                var before = clock.GetUtcNow() - TimeSpan.FromDays(options.Value.AnonymiseAfterDays);
                var rows = await retention.AnonymiseClosedBeforeAsync(before, stoppingToken);
                if (rows > 0) LogAnonymised(logger, rows, options.Value.AnonymiseAfterDays);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Information, "Retention: {Rows} signatures of petitions closed over {Days} days ago anonymised")]
    private static partial void LogAnonymised(ILogger logger, long rows, int days);

    [LoggerMessage(2, LogLevel.Warning, "Retention run failed; retried at the next interval: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
