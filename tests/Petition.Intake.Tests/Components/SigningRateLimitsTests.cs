using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.Storage;

namespace Petition.Intake.Tests.Components;

/// <summary>
/// The signing limits in process (ASP.NET Core's TestServer) around a stand-in signing endpoint, on a manual
/// clock, with a catalog that knows the petitions each test signs: no servers, no processes.
/// </summary>
public sealed class SigningRateLimitsTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Over_the_burst_a_signer_gets_a_429_problem_with_Retry_After_for_the_next_token()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "3", ["PerMinute"] = "1" });
        var petition = Known(app);

        for (var i = 0; i < 3; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.1")).Response.StatusCode);
        var refused = (await SignAsync(app, petition, "203.0.113.1")).Response;

        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.ContentType?.Split(';')[0]);
        Assert.Equal("60", refused.Headers.RetryAfter.ToString()); // one token a minute
    }

    [Fact]
    public async Task A_refused_signer_is_let_in_again_once_the_bucket_refills_and_not_before()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "1", ["PerMinute"] = "6" });
        var petition = Known(app);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.5")).Response.StatusCode);
        var refused = (await SignAsync(app, petition, "203.0.113.5")).Response;
        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.Equal("10", refused.Headers.RetryAfter.ToString()); // a token every ten seconds

        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition, "203.0.113.5")).Response.StatusCode);
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.5")).Response.StatusCode);
    }

    [Fact]
    public async Task The_hourly_limit_holds_however_fast_the_burst_refills_and_Retry_After_runs_to_the_end_of_its_window()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "10", ["PerMinute"] = "6000", ["PerHour"] = "4" });
        var petition = Known(app);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.2")).Response.StatusCode);
            _clock.Advance(TimeSpan.FromMinutes(10));
        }

        var refused = (await SignAsync(app, petition, "203.0.113.2")).Response;
        Assert.Equal(StatusCodes.Status429TooManyRequests, refused.StatusCode);
        Assert.Equal("1200", refused.Headers.RetryAfter.ToString()); // the window opened with the first, 40 minutes ago

        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.2")).Response.StatusCode);
    }

    [Fact]
    public async Task A_petition_is_one_allowance_however_its_id_is_spelled_and_only_signing_is_limited()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "2" });
        var (petition, other) = (Guid.Parse(Known(app)), Guid.Parse(Known(app)));

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
        var petition = Known(app);

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
        var petition = Known(app);

        for (var i = 0; i < 10; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.4")).Response.StatusCode);
    }

    [Fact]
    public async Task An_IPv6_signer_is_one_allowance_per_64_network_and_an_IPv4_one_per_address()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "2" });
        var petition = Known(app);

        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "2001:db8:1:2::1")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "2001:db8:1:2:ffff:ffff:ffff:ffff")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition, "2001:db8:1:2:1234::9")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "2001:db8:1:3::1")).Response.StatusCode);

        for (var i = 0; i < 2; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.10")).Response.StatusCode);
        Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, petition, "203.0.113.11")).Response.StatusCode);
    }

    [Fact]
    public async Task Petition_ids_the_catalog_does_not_know_pass_to_the_endpoint_and_leave_no_allowance_behind()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "1" });
        var allowances = app.Services.GetRequiredKeyedService<ClientAllowances>(SigningRateLimits.AllowancesKey);

        for (var i = 0; i < 1_000; i++) Assert.Equal(StatusCodes.Status202Accepted, (await SignAsync(app, Guid.NewGuid().ToString(), $"203.0.113.{i % 250}")).Response.StatusCode);

        Assert.Equal(0, allowances.Count);
    }

    [Fact]
    public async Task However_many_signers_arrive_no_more_are_held_than_the_cap_and_the_latest_keep_their_allowance()
    {
        await using var app = await StartAsync(new() { ["Burst"] = "1", ["MaxTrackedSigners"] = "1280" });
        var allowances = app.Services.GetRequiredKeyedService<ClientAllowances>(SigningRateLimits.AllowancesKey);
        var petition = Known(app);

        for (var i = 0; i < 20_000; i++) await SignAsync(app, petition, $"2001:db8:{i / 65536:x}:{i % 65536:x}::1");

        Assert.InRange(allowances.Count, 640, 1280);
        Assert.Equal(StatusCodes.Status429TooManyRequests, (await SignAsync(app, petition, $"2001:db8:0:{19_999 % 65536:x}::1")).Response.StatusCode);
    }

    /// <summary>The intake's signing middleware as Program.cs orders it, with endpoints that only answer.</summary>
    private async Task<WebApplication> StartAsync(Dictionary<string, string?> limits)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<TimeProvider>(_clock);
        // Only what Find needs: the catalog reads nothing from PostgreSQL here.
        builder.Services.AddSingleton(new PetitionCatalog(null!, null!, NullLogger<PetitionCatalog>.Instance));
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

    /// <summary>A petition the catalog knows, by its id.</summary>
    private static string Known(WebApplication app)
    {
        var petition = new PetitionRecord(Guid.NewGuid(), "t", "d", 100, null, null, DateTimeOffset.UnixEpoch);
        app.Services.GetRequiredService<PetitionCatalog>().Put(petition);
        return petition.PetitionId.ToString();
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
