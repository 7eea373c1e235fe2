using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Petition.LoadTests.Engine;

namespace Petition.LoadTests.Target;

/// <summary>The intake as a campaign site and an admin see it, over one pooled HTTP/1.1 client.</summary>
internal sealed class IntakeClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly Uri _intake;
    private readonly string _adminKey;

    public IntakeClient(Uri intake, string adminKey, int connections)
    {
        _intake = intake;
        _adminKey = adminKey;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public HttpClient Http => _http;

    public async Task<Guid> CreatePetitionAsync(string title, CancellationToken cancellationToken, string confirmation = "none")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_intake, "/api/petitions"))
        {
            // Counted at once unless asked: the load tests measure the signing pipeline; confirmations have a scenario of their own.
            Content = JsonContent.Create(new { title, description = "Load test.", target = 10_000_000, confirmation }),
        };
        request.Headers.Add("X-Api-Key", _adminKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetGuid();
    }

    /// <summary>Posts one signature body; a 202's signature id is read from its Location header.</summary>
    public Task<Reply> SignAsync(Guid petition, byte[] body, CancellationToken cancellationToken) =>
        PostAsync(new Uri(_intake, $"/api/petitions/{petition}/signatures"), body, Json, cancellationToken);

    public async Task<Reply> PostAsync(Uri url, byte[] body, MediaTypeHeaderValue contentType, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = contentType;
        using var response = await _http.PostAsync(url, content, cancellationToken);
        var status = (int)response.StatusCode;
        if (status != 202) return Reply.Of(status, retryAfter: response.Headers.RetryAfter is not null);
        var location = response.Headers.Location?.OriginalString;
        return Reply.Of(status, location is { Length: >= 36 } ? Guid.Parse(location.AsSpan(location.Length - 36)) : Guid.Empty);
    }

    /// <summary>Presses a mailed link's Confirm button: its token, POSTed.</summary>
    public async Task<Reply> ConfirmAsync(Guid signatureId, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_intake, $"/api/signatures/{signatureId}/confirmation"));
        request.Headers.Add("X-Confirmation-Token", token);
        using var response = await _http.SendAsync(request, cancellationToken);
        return Reply.Of((int)response.StatusCode, retryAfter: response.Headers.RetryAfter is not null);
    }

    /// <summary>Posts a bulk import (admin); answers the status and how many rows were accepted.</summary>
    public async Task<(int Status, int Accepted)> ImportAsync(Guid petition, byte[] jsonArray, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_intake, $"/api/petitions/{petition}/signatures/batch"))
        {
            Content = new ByteArrayContent(jsonArray) { Headers = { ContentType = Json } },
        };
        request.Headers.Add("X-Api-Key", _adminKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode != 202) return ((int)response.StatusCode, 0);
        var report = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return (202, report.GetProperty("accepted").GetInt32());
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Signature bodies as campaign forms post them, made cheaply enough to send tens of thousands a second.</summary>
internal static class Signers
{
    private static readonly string[] Countries = ["GB", "KR", "BR", "DE", "NG", "IN", "US", "FR", "UA", "ZA", "AF", "SY", "MX", "JP", "TR"];
    private static readonly string[] Names = ["Amina Yusuf", "김민준", "João Silva", "Олена Коваль", "محمد علي", "Zoë Dupont", "Nguyễn Văn An", "Ana Müller"];

    /// <summary>Signer <paramref name="signer"/> of a run: the same signer always has the same email (and country).</summary>
    public static string Email(string run, long signer) => $"load-{run}-{signer}@example.org";

    public static string Country(long signer) => Countries[signer % Countries.Length];

    public static byte[] Body(string run, long signer, bool retyped = false)
    {
        var email = Email(run, signer);
        // A signer typing again: other case, stray spaces. The intake's canonical email makes it the same signer.
        if (retyped) email = "  " + email.ToUpperInvariant() + " ";
        return Encoding.UTF8.GetBytes(
            $$"""{"name":"{{Names[signer % Names.Length]}}","email":"{{email}}","country":"{{Country(signer)}}","postalCode":"{{signer % 100_000:D5}}"}""");
    }

    /// <summary>A JSON array of <paramref name="count"/> signers, from <paramref name="first"/>.</summary>
    public static byte[] Import(string run, long first, int count)
    {
        var json = new StringBuilder(count * 110).Append('[');
        for (var i = 0; i < count; i++)
        {
            if (i > 0) json.Append(',');
            json.Append(Encoding.UTF8.GetString(Body(run, first + i)));
        }

        return Encoding.UTF8.GetBytes(json.Append(']').ToString());
    }
}
