namespace Petition.Intake;

/// <summary>
/// Every log message of the intake, in one place so that each keeps an event id of its own (101–199, apart
/// from the shared libraries' that log in this process too). Reasons and counts only, never a signer's data.
/// </summary>
internal static partial class IntakeLog
{
    [LoggerMessage(101, LogLevel.Information, "Petition catalog loaded: {Count} petitions")]
    public static partial void CatalogLoaded(this ILogger logger, int count);

    [LoggerMessage(102, LogLevel.Warning, "Petition catalog cannot read PostgreSQL; it keeps serving what it has and retries: {Reason}")]
    public static partial void CatalogNotRead(this ILogger logger, string reason);

    [LoggerMessage(111, LogLevel.Information, "Access lists loaded: {Keys} API keys, {Blocks} blocks")]
    public static partial void AccessListsLoaded(this ILogger logger, int keys, int blocks);

    [LoggerMessage(112, LogLevel.Warning, "Access lists cannot be read from PostgreSQL; the last ones stay in force: {Reason}")]
    public static partial void AccessListsNotRead(this ILogger logger, string reason);

    [LoggerMessage(121, LogLevel.Warning, "Broker did not confirm a message of {Count} signatures; callers get 503: {Reason}")]
    public static partial void SendNotConfirmed(this ILogger logger, int count, string reason);

    [LoggerMessage(122, LogLevel.Warning, "The broker nacked a send or did not confirm it in time; replacing the send channel")]
    public static partial void ReplacingSendChannel(this ILogger logger);

    [LoggerMessage(123, LogLevel.Warning, "Change not announced ({Petitions} petitions' totals, {Signers} signers to forget); counters reconcile with PostgreSQL: {Reason}")]
    public static partial void ChangeNotAnnounced(this ILogger logger, int petitions, int signers, string reason);
}
