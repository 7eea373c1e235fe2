using System.Net;
using System.Net.Http.Json;

namespace Petition.Intake.Tests;

/// <summary>
/// The signing limits per client address and petition, on a real intake process (the client address is the
/// socket's, or X-Forwarded-For from a trusted proxy). Small limits and fast refills keep the tests short.
/// </summary>
public sealed class RateLimitTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    [Fact]
    public async Task Over_the_burst_an_address_gets_429_with_retry_after_and_is_let_in_again_once_it_refills()
    {
        var (petition, warmUp) = (await system.CreatePetitionAsync(), await system.CreatePetitionAsync());
        // A token every 3 s: the four requests below fit in that however busy the machine (at one a second, a
        // clean-clone CI run under load once took longer, and the fourth found a new token).
        using var intake = await StartAsync(new() { ["RateLimits:Burst"] = "3", ["RateLimits:PerMinute"] = "20" });
        // A new process's first signature compiles the signing path; on a busy machine it outlasted the second
        // the bucket takes to refill. Another petition's allowance pays for it.
        using (await intake.SignAsync(warmUp))
        {
        }

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Accepted, (await intake.SignAsync(petition)).StatusCode);
        using var refused = await intake.SignAsync(petition);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var wait = refused.Headers.RetryAfter?.Delta ?? throw new InvalidOperationException("no Retry-After");
        Assert.InRange(wait, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        // Exactly the Retry-After: it is the time to the next token, rounded up (ASP.NET Core's partitioned bucket,
        // which refilled on a 100 ms timer, needed a margin here).
        await Task.Delay(wait);
        Assert.Equal(HttpStatusCode.Accepted, (await intake.SignAsync(petition)).StatusCode);
    }

    [Fact]
    public async Task The_hourly_limit_holds_however_patiently_an_address_spaces_its_signatures()
    {
        var petition = await system.CreatePetitionAsync();
        using var intake = await StartAsync(new() { ["RateLimits:Burst"] = "10", ["RateLimits:PerMinute"] = "6000", ["RateLimits:PerHour"] = "4" });

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await intake.SignAsync(petition)).StatusCode);
            await Task.Delay(100);
        }

        using var refused = await intake.SignAsync(petition);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.FromSeconds(60), $"Retry-After {refused.Headers.RetryAfter} should run to the end of the hour's window");
    }

    [Fact]
    public async Task Limits_are_per_petition_and_other_endpoints_are_not_limited()
    {
        var (first, second) = (await system.CreatePetitionAsync(), await system.CreatePetitionAsync());
        using var intake = await StartAsync(new() { ["RateLimits:Burst"] = "2" });

        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Accepted, (await intake.SignAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await intake.SignAsync(first)).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await intake.SignAsync(second)).StatusCode);
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await intake.Client.GetAsync($"/api/petitions/{first}")).StatusCode);
    }

    [Fact]
    public async Task X_Forwarded_For_names_the_signer_only_when_a_trusted_proxy_sends_it()
    {
        var petition = await system.CreatePetitionAsync();
        using var behindProxy = await StartAsync(new() { ["RateLimits:Burst"] = "2", ["RateLimits:TrustedProxies:0"] = "127.0.0.0/8" });
        using var direct = await StartAsync(new() { ["RateLimits:Burst"] = "2" });

        // Through the trusted proxy, each visitor has an allowance of their own.
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Accepted, (await behindProxy.SignAsync(petition, "203.0.113.7")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await behindProxy.SignAsync(petition, "203.0.113.7")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await behindProxy.SignAsync(petition, "203.0.113.8")).StatusCode);

        // From anyone else the header is ignored: a bot cannot mint addresses by writing them.
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Accepted, (await direct.SignAsync(petition, $"198.51.100.{i}")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await direct.SignAsync(petition, "198.51.100.99")).StatusCode);
    }

    [Fact]
    public async Task Replaying_a_valid_confirmation_link_from_one_address_is_limited_like_signing()
    {
        using var intake = await StartAsync(new() { ["RateLimits:Burst"] = "2", ["RateLimits:PerMinute"] = "1" });
        var signature = Guid.CreateVersion7();
        var token = new Petition.Signing.ConfirmationTokens(TestServers.DedupSecret, TimeSpan.FromDays(7)).For(signature);
        async Task<HttpResponseMessage> ConfirmAsync(string t)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/signatures/{signature}/confirmation");
            request.Headers.Add("X-Confirmation-Token", t);
            return await intake.Client.SendAsync(request);
        }

        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Accepted, (await ConfirmAsync(token)).StatusCode);
        using var refused = await ConfirmAsync(token);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        // A forged token is refused for what it is, before any allowance: it costs an HMAC, nothing more.
        Assert.Equal(HttpStatusCode.Forbidden, (await ConfirmAsync("forged")).StatusCode);
    }

    private async Task<Intake> StartAsync(Dictionary<string, string> limits)
    {
        limits["RateLimits:Enabled"] = "true";
        var process = system.StartIntake(limits);
        await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return new Intake(new HttpClient { BaseAddress = process.Url });
    }

    private sealed record Intake(HttpClient Client) : IDisposable
    {
        public async Task<HttpResponseMessage> SignAsync(Guid petition, string? forwardedFor = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures")
            {
                Content = JsonContent.Create(Signer.Unique()),
            };
            if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
            return await Client.SendAsync(request);
        }

        public void Dispose() => Client.Dispose();
    }
}
