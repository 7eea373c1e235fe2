using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Petition.Testing;

/// <summary>
/// A worker and a counter running for a whole test class, the counter's periodic reconciliation out of the way
/// (every ten minutes): the totals it shows came as events or from an explicit reload. With a partner key, for
/// signing as a campaign site does for its visitors.
/// </summary>
public sealed class SystemWithCounter : PetitionSystem
{
    public ServiceProcess Counter { get; private set; } = null!;

    /// <summary>A client of the counter fit for a thousand live streams at once: no connection limit, no timeout.</summary>
    public HttpClient CounterClient { get; private set; } = null!;

    public string PartnerKey { get; private set; } = null!;

    protected override Uri? CounterUrl => Counter?.Url;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        StartWorker();
        // A thousand live clients from this one address.
        Counter = StartCounter(new Dictionary<string, string> { ["Counter:ReconcileInterval"] = "00:10:00", ["Counter:MaxStreamsPerClient"] = "10000" });
        await Counter.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        CounterClient = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = Counter.Url,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        using var key = await Admin.PostAsJsonAsync("/api/admin/keys", new { name = "campaign site", scope = "partner", perMinute = 100_000 });
        key.EnsureSuccessStatusCode();
        PartnerKey = (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    public override async Task DisposeAsync()
    {
        CounterClient?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>Signs as the partner site for a visitor at <paramref name="visitor"/>; returns the accepted body.</summary>
    public async Task<JsonElement> SignForAsync(Guid petition, object signer, string visitor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(signer) };
        request.Headers.Add("X-Api-Key", PartnerKey);
        request.Headers.Add("X-Visitor-Address", visitor);
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Waits until the counter shows <paramref name="expected"/> for the petition.</summary>
    public Task CounterShowsAsync(Guid petition, long expected) =>
        WaitUntilAsync(async () => (await CounterClient.GetFromJsonAsync<JsonElement>($"/api/petitions/{petition}/count")).GetProperty("total").GetInt64() == expected,
            TimeSpan.FromSeconds(5), $"the counter to show {expected}");
}
