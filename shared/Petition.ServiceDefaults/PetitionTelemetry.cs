using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Petition.ServiceDefaults;

/// <summary>
/// Petition's own ActivitySource and Meter, shared by every service. Tags carry ids and counts only:
/// never a name, an email or a postal code.
/// </summary>
public static class PetitionTelemetry
{
    /// <summary>The name of both the ActivitySource and the Meter.</summary>
    public const string Name = "Petition";

    /// <summary>Spans for the steps the frameworks do not trace themselves: coalescing, dedup, bulk write, push.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Petition's instruments.</summary>
    public static readonly Meter Meter = new(Name);

    /// <summary>Most links one batch span carries back to the requests in it; enough to follow any sample.</summary>
    public const int MaxLinks = 1_000;

    /// <summary>
    /// Span links from a batch back to each request it holds (W3C traceparents), so the trace of one
    /// signature reaches its row through the micro-batching.
    /// </summary>
    public static IEnumerable<ActivityLink> LinksTo(IEnumerable<string?> traceParents)
    {
        ArgumentNullException.ThrowIfNull(traceParents);
        foreach (var traceParent in traceParents.Take(MaxLinks))
        {
            if (traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context)) yield return new ActivityLink(context);
        }
    }

    /// <summary>
    /// For a span that carries many requests: the context of the first request that is being traced, whose trace
    /// it continues (so a signature sent on its own is one trace from its request to its row and its push), and
    /// links to the others. A request that is not traced is never the parent: one caller's "not sampled" must
    /// not switch tracing off for the hundreds of signatures batched with it.
    /// </summary>
    public static (ActivityContext Parent, IEnumerable<ActivityLink> Links) ContinueFirst(IEnumerable<string?> traceParents)
    {
        ArgumentNullException.ThrowIfNull(traceParents);
        var links = LinksTo(traceParents).ToList();
        var first = links.FindIndex(l => l.Context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded));
        return first < 0 ? (default, links) : (links[first].Context, links.Where((_, i) => i != first));
    }
}
