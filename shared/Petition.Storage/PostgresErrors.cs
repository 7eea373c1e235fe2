using System.Diagnostics;
using Npgsql;

namespace Petition.Storage;

/// <summary>
/// What may be said of a PostgreSQL error outside the database: its SQLSTATE and the constraint, column or type
/// it names. PostgreSQL's message text can quote the value it refused (a name, an email), so it is never
/// repeated in a log line, a header or a span.
/// </summary>
public static class PostgresErrors
{
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
