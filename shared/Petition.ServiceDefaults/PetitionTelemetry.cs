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
    /// For a span that carries many requests: the first request's context, whose trace it continues (so a
    /// signature sent on its own is one trace from its request to its row and its push), and links to the others.
    /// </summary>
    public static (ActivityContext Parent, IEnumerable<ActivityLink> Links) ContinueFirst(IEnumerable<string?> traceParents)
    {
        ArgumentNullException.ThrowIfNull(traceParents);
        var links = LinksTo(traceParents).ToList();
        return links.Count == 0 ? (default, links) : (links[0].Context, links.Skip(1));
    }
}
