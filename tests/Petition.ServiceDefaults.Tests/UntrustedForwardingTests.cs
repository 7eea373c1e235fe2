using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Time.Testing;

namespace Petition.ServiceDefaults.Tests;

public sealed class UntrustedForwardingTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void X_Forwarded_For_from_an_untrusted_peer_is_warned_of_once_in_ten_minutes()
    {
        var forwarding = Forwarding("10.0.0.0/8");

        Assert.True(forwarding.ShouldWarn(Request("203.0.113.5", forwardedFor: "198.51.100.7")));
        Assert.False(forwarding.ShouldWarn(Request("203.0.113.5", forwardedFor: "198.51.100.7")));
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.True(forwarding.ShouldWarn(Request("203.0.113.6", forwardedFor: "198.51.100.8")));
    }

    [Fact]
    public void From_a_trusted_proxy_or_without_the_header_there_is_nothing_to_warn_of()
    {
        var forwarding = Forwarding("10.0.0.0/8");

        Assert.False(forwarding.ShouldWarn(Request("10.1.2.3", forwardedFor: "198.51.100.7")));
        Assert.False(forwarding.ShouldWarn(Request("::ffff:10.1.2.3", forwardedFor: "198.51.100.7")));
        Assert.False(forwarding.ShouldWarn(Request("203.0.113.5", forwardedFor: null)));
        Assert.True(Forwarding().ShouldWarn(Request("127.0.0.1", forwardedFor: "198.51.100.7"))); // no proxy trusted at all
    }

    private UntrustedForwarding Forwarding(params string[] proxies)
    {
        var options = new ForwardedHeadersOptions();
        TrustedProxies.Configure(options, proxies);
        return new UntrustedForwarding(options, _clock);
    }

    private static DefaultHttpContext Request(string peer, string? forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null) context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        return context;
    }
}
