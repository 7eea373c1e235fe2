using System.Collections.Concurrent;
using System.Diagnostics;

namespace Petition.Testing;

/// <summary>Records every span stopped in this process, from every ActivitySource, while it lives.</summary>
public sealed class SpanCapture : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener;

    public SpanCapture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyCollection<Activity> Spans => _spans;

    public void Dispose() => _listener.Dispose();
}
