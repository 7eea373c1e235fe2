using System.Collections.Concurrent;
using MassTransit;

namespace Petition.Counter.Counting;

/// <summary>
/// Whether commits' totals events reach this counter: every receive endpoint of its bus is consuming. While the
/// broker is away none arrive (the counter's queue is temporary, so it is gone after a broker restart), and
/// MassTransit waits up to 30 s between reconnects; so while the feed is down the reconciler reads PostgreSQL
/// every second, and once it is back it reads once more, for the events published before the queue returned.
/// </summary>
public sealed partial class TotalsFeed(ILogger<TotalsFeed> logger) : IReceiveEndpointObserver
{
    private readonly ConcurrentDictionary<Uri, bool> _endpoints = new();

    /// <summary>Raised when every endpoint is consuming again after one was not.</summary>
    public event Action? Resumed;

    /// <summary>False until the bus first consumes, and while any endpoint is reconnecting.</summary>
    public bool IsReceiving => !_endpoints.IsEmpty && _endpoints.Values.All(ready => ready);

    public Task Ready(ReceiveEndpointReady ready)
    {
        var wasReceiving = IsReceiving;
        _endpoints[ready.InputAddress] = true;
        if (!wasReceiving && IsReceiving)
        {
            LogResumed(logger);
            Resumed?.Invoke();
        }

        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted) => Down(faulted.InputAddress);

    public Task Stopping(ReceiveEndpointStopping stopping) => Down(stopping.InputAddress);

    public Task Completed(ReceiveEndpointCompleted completed) => Down(completed.InputAddress);

    private Task Down(Uri endpoint)
    {
        if (_endpoints.TryGetValue(endpoint, out var ready) && ready) LogInterrupted(logger);
        _endpoints[endpoint] = false;
        return Task.CompletedTask;
    }

    [LoggerMessage(21, LogLevel.Warning, "Totals events interrupted (broker connection lost); reading totals from PostgreSQL every second until they resume")]
    private static partial void LogInterrupted(ILogger logger);

    [LoggerMessage(22, LogLevel.Information, "Totals events resumed; reading totals from PostgreSQL once for any missed")]
    private static partial void LogResumed(ILogger logger);
}
