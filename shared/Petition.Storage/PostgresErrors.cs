using System.Data.Common;
using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;

namespace Petition.Storage;

/// <summary>
/// What a PostgreSQL failure means, in one place: whether waiting may outlast it (<see cref="IsTransient"/>), whether
/// its rows are at fault (<see cref="IsBadData"/>), whether PostgreSQL undid the transaction for a concurrent one
/// (<see cref="IsConflict"/>); and what may be said of it outside the database: its SQLSTATE and the constraint,
/// column or type it names. PostgreSQL's message text can quote the value it refused (a name, an email), so it is
/// never repeated in a log line, a header or a span.
/// </summary>
public static class PostgresErrors
{
    /// <summary>
    /// True when the same work may succeed later, so it is waited out rather than given up: every failure of
    /// PostgreSQL or of the way to it except one caused by the rows themselves (<see cref="IsBadData"/>). That is
    /// Npgsql's own answer (<see cref="DbException.IsTransient"/>: the connection refused, lost or timed out, the server
    /// shutting down or starting up, out of resources, a deadlock, a serialisation failure) and more: a read-only
    /// server during a failover, a refused login, a missing database or table during a deployment. An operator's fix
    /// makes those succeed too, and the worker's batch then waits unacked in its queue instead of being parked in the
    /// error queue for a hand to replay. A timeout or a network failure that arrives unwrapped counts as well. An
    /// <see cref="InvalidOperationException"/> is never one: it is a bug in how a connection or a mapping is used,
    /// and waiting would hide it.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => !IsBadData(postgres),
        NpgsqlException => true,
        TimeoutException or SocketException or IOException => true,
        _ => false,
    };

    /// <summary>Data exceptions (22xxx) and integrity violations (23xxx): the same rows fail the same way on every attempt.</summary>
    public static bool IsBadData(PostgresException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal);
    }

    /// <summary>
    /// PostgreSQL rolled the transaction back to resolve a deadlock or a serialisation failure with a concurrent one:
    /// none of it took effect, so it may be run again at once. (A lost connection is no such case: its commit may have
    /// happened.)
    /// </summary>
    public static bool IsConflict(PostgresException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
    }

    /// <summary>"23505 signatures_petition_id_dedup_key_key", say.</summary>
    public static string Describe(PostgresException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"{e.SqlState} {e.ConstraintName ?? e.ColumnName ?? e.DataTypeName ?? ""}".TrimEnd();
    }

    // Npgsql records a failed command's exception on its span (Activity.AddException: message and stack trace);
    // a listener's recorder fills those two tags first, so Npgsql's own are not added.
    private static readonly ActivityListener Redaction = new()
    {
        ShouldListenTo = source => source.Name == "Npgsql",
        ExceptionRecorder = Redact,
    };

    private static int _redacting;

    /// <summary>From now on, Npgsql's spans carry <see cref="Describe"/> instead of PostgreSQL's message text.</summary>
    internal static void RedactSpans()
    {
        if (Interlocked.Exchange(ref _redacting, 1) == 0) ActivitySource.AddActivityListener(Redaction);
    }

    private static void Redact(Activity activity, Exception exception, ref TagList tags)
    {
        if ((exception as PostgresException ?? exception.InnerException as PostgresException) is not { } postgres) return;
        var description = Describe(postgres);
        tags.Add("exception.message", description);
        tags.Add("exception.stacktrace", $"{exception.GetType().FullName}: {description}{Environment.NewLine}{exception.StackTrace}");
    }
}
