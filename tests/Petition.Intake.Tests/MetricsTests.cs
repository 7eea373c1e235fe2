using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Petition.Intake.Tests;

/// <summary>Measurements are process-wide: this runs alone so the deltas are this test's own.</summary>
[CollectionDefinition(nameof(MetricsAlone), DisableParallelization = true)]
public sealed class MetricsAlone;

[Collection(nameof(MetricsAlone))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_count_what_was_accepted_and_rejected()
    {
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        var petition = await system.CreatePetitionAsync();
        var before = await ScrapeAsync(system);

        var accepted = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => system.SignAsync(petition, Signer.Unique(i))));
        var invalid = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => system.SignAsync(petition, new Signer("", "nope", "XX"))));
        var unknown = await system.SignAsync(Guid.NewGuid(), Signer.Unique());
        var after = await ScrapeAsync(system);

        Assert.All(accepted, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.All(invalid, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(25, Delta("petition_signatures_accepted_total{source=\"online\"}"));
        Assert.Equal(4, Delta("petition_signatures_rejected_total{reason=\"invalid\"}"));
        Assert.Equal(1, Delta("petition_signatures_rejected_total{reason=\"petition_not_found\"}"));
        Assert.True(Delta("petition_publish_confirm_duration_count") >= 1);
        foreach (var line in after.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(ExpositionLine, line); // what Prometheus itself would accept
        }

        Assert.Equal(25, Delta("petition_publish_message_signatures_sum"));

        double Delta(string series) => Value(after, series) - Value(before, series);
    }

    private static readonly Regex ExpositionLine = new(
        """^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)+\})? (-?[0-9.eE+-]+|\+Inf|NaN))$""");

    private static async Task<string> ScrapeAsync(PetitionSystem system)
    {
        var response = await system.Client.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
