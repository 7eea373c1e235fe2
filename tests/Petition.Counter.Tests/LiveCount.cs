using System.Net.Http.Json;
using System.Text.Json;

namespace Petition.Counter.Tests;

/// <summary>Reads the counter the way a campaign page does: the JSON count and the SSE stream.</summary>
internal static class LiveCount
{
    public static async Task<JsonElement> GetAsync(HttpClient client, Guid petition) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/petitions/{petition}/count");

    /// <summary>An open stream; <see cref="Stream.NextTotalAsync"/> returns the total of each event in turn.</summary>
    public static async Task<Stream> OpenAsync(HttpClient client, Guid petition, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"/api/petitions/{petition}/count/stream", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new Stream(response, new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)));
    }

    public sealed class Stream(HttpResponseMessage response, StreamReader reader) : IDisposable
    {
        public async Task<long> NextTotalAsync(CancellationToken cancellationToken)
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                    return JsonDocument.Parse(line[6..]).RootElement.GetProperty("total").GetInt64();
            }

            throw new EndOfStreamException("The stream ended.");
        }

        /// <summary>Reads events until one carries <paramref name="expected"/>; fails on a figure above it.</summary>
        public async Task ReadUntilAsync(long expected, CancellationToken cancellationToken)
        {
            long total;
            do
            {
                total = await NextTotalAsync(cancellationToken);
                Assert.True(total <= expected, $"the stream showed {total}, above the {expected} signatures stored");
            }
            while (total != expected);
        }

        public void Dispose()
        {
            reader.Dispose();
            response.Dispose();
        }
    }
}
