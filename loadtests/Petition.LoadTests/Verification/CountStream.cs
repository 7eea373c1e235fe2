using System.Text.Json;

namespace Petition.LoadTests.Verification;

/// <summary>The counter's SSE stream of one petition, read as a campaign page reads it: each pushed total, as it arrives.</summary>
internal static class CountStream
{
    /// <summary>Reads totals until the stream ends (returns) or is cancelled (throws).</summary>
    public static async Task ReadAsync(HttpClient http, Uri counter, Guid petition, Action<long> onTotal, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(counter, $"/api/petitions/{petition}/count/stream"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            using var update = JsonDocument.Parse(line.AsMemory(6));
            onTotal(update.RootElement.GetProperty("total").GetInt64());
        }
    }
}
