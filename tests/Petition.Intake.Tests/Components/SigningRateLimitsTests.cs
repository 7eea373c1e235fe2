using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Petition.Intake.Http;

namespace Petition.Intake.Tests.Components;

/// <summary>
/// The signing limits in process (ASP.NET Core's TestServer) around a stand-in signing endpoint: no servers, no
/// processes. Not on a manual clock: System.Threading.RateLimiting's limiters read the real one and take no
/// TimeProvider (dotnet/runtime#106447), so the one test of a refill waits for it, a tenth of a second, and the
/// others refill too slowly to matter however slow the machine.
/// </summary>
public sealed class SigningRateLimitsTests
{
    [Fact]
    public async Task Over_the_burst_a_signer_gets_a_429_problem_with_Retry_After_for_the_next_token()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "3", ["PerMinute"] = "1" });
        var petition = Guid.NewGuid().ToString();

        for (var i = 0; i < 3; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.1")).Response.StatusCode);
        var refused = (await SignAsync(app, petition, "203.0.113.1")).Response;

        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.ContentType?.Split(';')[0]);
        Assert.Equal("60", refused.Headers.RetryAfter.ToString()); // one token a minute
    }

    [Fact]
    public async Task A_refused_signer_is_let_in_again_once_the_bucket_refills()
    {
        // A token every tenth of a second: the burst of one is spent by whichever request follows another
        // within it, and the next is let in soon after.
        await using var app = await StartAsync(new() { ["Burst"] = "1", ["PerMinute"] = "600" });
        var petition = Guid.NewGuid().ToString();
        var refused = 0;
        for (var i = 0; i < 50 && refused == 0; i++)
        {
            if ((await SignAsync(app, petition, "203.0.113.5")).Response.StatusCode == StatusCodes.Status429TooManyRequests) refused++;
        }

        Assert.Equal(1, refused);
        await PetitionSystem.WaitUntilAsync(async () => (await SignAsync(app, petition, "203.0.113.5")).Response.StatusCode == StatusCodes.Status202Accepted,
            TimeSpan.FromSeconds(2), "the bucket to refill");
    }

    [Fact]
    public async Task The_hourly_limit_holds_however_fast_the_burst_refills_and_Retry_After_runs_to_the_end_of_its_window()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "10", ["PerMinute"] = "6000", ["PerHour"] = "4" });
        var petition = Guid.NewGuid().ToString();

        for (var i = 0; i < 4; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.2")).Response.StatusCode);
        var refused = (await SignAsync(app, petition, "203.0.113.2")).Response;

        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.True(int.Parse(refused.Headers.RetryAfter.ToString(), CultureInfo.InvariantCulture) > 60, $"Retry-After {refused.Headers.RetryAfter}");
    }

    [Fact]
    public async Task A_petition_is_one_allowance_however_its_id_is_spelled_and_only_signing_is_limited()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "2" });
        var (petition, other) = (Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition.ToString(), "203.0.113.3")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition.ToString().ToUpperInvariant(), "203.0.113.3")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition.ToString("B"), "203.0.113.3")).Response.StatusCode);

        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, other.ToString(), "203.0.113.3")).Response.StatusCode);
        for (var i = 0; i < 5; i++) Assert.Equal(StatusCodes.Status200OK, (await SendAsync(app, HttpMethods.Get, $"/api/petitions/{petition}", "203.0.113.3")).Response.StatusCode);
    }

    [Fact]
    public async Task X_Forwarded_For_names_the_signer_only_when_a_trusted_proxy_sends_it()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "2", ["TrustedProxies:0"] = "10.0.0.0/8" });
        var petition = Guid.NewGuid().ToString();

        // Through the trusted proxy, each visitor has an allowance of their own.
        for (var i = 0; i < 2; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "10.0.0.1", "203.0.113.7")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition, "10.0.0.1", "203.0.113.7")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "10.0.0.1", "203.0.113.8")).Response.StatusCode);

        // From anyone else the header is ignored: a bot cannot mint addresses by writing them.
        for (var i = 0; i < 2; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "198.51.100.1", $"192.0.2.{i}")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition, "198.51.100.1", "192.0.2.99")).Response.StatusCode);
    }

    [Fact]
    public async Task Switched_off_nothing_is_limited()
    {
        await using var app = await StartAsync(new() { ["Enabled"] = "false", ["Burst"] = "1" });
        var petition = Guid.NewGuid().ToString();

        for (var i = 0; i < 10; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.4")).Response.StatusCode);
    }

    /// <summary>The intake's signing middleware as Program.cs orders it, with endpoints that only answer.</summary>
    private static async Task<WebApplication> StartAsync(Dictionary<string, string?> limits)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(limits.Select(l => KeyValuePair.Create("RateLimits:" + l.Key, l.Value)));
        builder.AddSigningClients();
        builder.AddSigningRateLimits();
        var app = builder.Build();
        app.UseSigningClients();
        app.UseSigningRateLimits();
        app.MapPost("/api/petitions/{petitionId:guid}/signatures", () => TypedResults.Accepted((string?)null)).AsSigningEndpoint();
        app.MapGet("/api/petitions/{petitionId:guid}", () => TypedResults.Ok());
        await app.StartAsync();
        return app;
    }

    private static Task<HttpContext> SignAsync(WebApplication app, string petition, string from, string? forwardedFor = null) =>
        SendAsync(app, HttpMethods.Post, $"/api/petitions/{petition}/signatures", from, forwardedFor);

    private static Task<HttpContext> SendAsync(WebApplication app, string method, string path, string from, string? forwardedFor = null) =>
        app.GetTestServer().SendAsync(http =>
        {
            http.Request.Method = method;
            http.Request.Path = path;
            http.Connection.RemoteIpAddress = IPAddress.Parse(from);
            if (forwardedFor is not null) http.Request.Headers["X-Forwarded-For"] = forwardedFor;
        });
}
