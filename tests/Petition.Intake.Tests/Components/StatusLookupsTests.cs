using System.Net;
using Microsoft.Extensions.Time.Testing;
using Petition.Intake.Http;

namespace Petition.Intake.Tests.Components;

/// <summary>What a signature-status lookup may cost, on a manual clock.</summary>
public sealed class StatusLookupsTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.7");

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public void Ids_this_system_cannot_have_issued_are_refused_without_spending_the_allowance()
    {
        var lookups = Lookups(new StatusLookupOptions { Burst = 1 });

        Assert.Equal(StatusLookupRefusal.NeverIssued, lookups.TryEnter(Guid.NewGuid(), Client, out _)); // version 4
        Assert.Equal(StatusLookupRefusal.NeverIssued, lookups.TryEnter(Guid.Empty, Client, out _));
        Assert.Equal(StatusLookupRefusal.NeverIssued, lookups.TryEnter(Guid.CreateVersion7(_clock.GetUtcNow().AddMinutes(10)), Client, out _));
        Assert.Equal(StatusLookupRefusal.NeverIssued, lookups.TryEnter(Guid.Parse("ffffffff-ffff-7fff-bfff-ffffffffffff"), Client, out _)); // past year 9999
        Assert.Equal(0, lookups.TrackedClients);

        Assert.Equal(StatusLookupRefusal.None, lookups.TryEnter(Guid.CreateVersion7(_clock.GetUtcNow().AddMinutes(-10)), Client, out _));
    }

    [Fact]
    public void A_client_past_its_burst_waits_for_the_refill_it_is_told_of_and_others_are_not_held_back()
    {
        var lookups = Lookups(new StatusLookupOptions { Burst = 3, PerMinute = 60 });

        for (var i = 0; i < 3; i++) Enter(lookups, Client);
        Assert.Equal(StatusLookupRefusal.TooMany, lookups.TryEnter(Guid.CreateVersion7(), Client, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Enter(lookups, IPAddress.Parse("203.0.113.8"));

        _clock.Advance(retryAfter);
        Enter(lookups, Client);
    }

    [Fact]
    public void Past_the_lookups_allowed_at_once_the_next_is_told_to_retry_until_one_ends()
    {
        var lookups = Lookups(new StatusLookupOptions { MaxConcurrent = 2 });
        Enter(lookups, IPAddress.Parse("203.0.113.1"));
        Enter(lookups, IPAddress.Parse("203.0.113.2"));

        Assert.Equal(StatusLookupRefusal.Busy, lookups.TryEnter(Guid.CreateVersion7(), IPAddress.Parse("203.0.113.3"), out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);

        lookups.Exit();
        Enter(lookups, IPAddress.Parse("203.0.113.3"));
    }

    [Fact]
    public void With_the_signing_limits_off_no_client_is_limited_but_the_bound_at_once_stays()
    {
        var lookups = new StatusLookups(new StatusLookupOptions { Burst = 1, MaxConcurrent = 100 }, perClient: false, _clock);

        for (var i = 0; i < 100; i++) Enter(lookups, Client);
        Assert.Equal(StatusLookupRefusal.Busy, lookups.TryEnter(Guid.CreateVersion7(), Client, out _));
        Assert.Equal(0, lookups.TrackedClients);
    }

    private StatusLookups Lookups(StatusLookupOptions options) => new(options, perClient: true, _clock);

    private static void Enter(StatusLookups lookups, IPAddress client) =>
        Assert.Equal(StatusLookupRefusal.None, lookups.TryEnter(Guid.CreateVersion7(), client, out _));
}
