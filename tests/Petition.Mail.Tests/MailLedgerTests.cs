using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Petition.Mailer;
using Petition.Mailer.Sending;
using Petition.Testing;
using StackExchange.Redis;

namespace Petition.Mail.Tests;

/// <summary>The mailer's ledger on the real Redis: one send per request, caps taken once, a lease only its holder gives back.</summary>
public sealed class MailLedgerTests : IAsyncLifetime
{
    private ConnectionMultiplexer _redis = null!;

    public async Task InitializeAsync() => _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private MailLedger Ledger(int perPetition = 3, int perDay = 10) =>
        new(_redis, Options.Create(new MailerOptions { MaxPerAddressPerPetition = perPetition, MaxPerAddressPerDay = perDay }), TimeProvider.System);

    [Fact]
    public async Task A_second_delivery_of_a_request_being_sent_waits_and_one_sent_is_never_sent_again()
    {
        var ledger = Ledger();
        var (request, petition, address) = (Guid.NewGuid(), Guid.NewGuid(), RandomNumberGenerator.GetBytes(32));

        var (first, lease) = await ledger.AllowAsync(request, petition, address);
        var (second, _) = await ledger.AllowAsync(request, petition, address);
        Assert.Equal((MailAllowance.Send, MailAllowance.Busy), (first, second));

        await ledger.MarkSentAsync(request, address, lease!);
        Assert.Equal(MailAllowance.Sent, (await ledger.AllowAsync(request, petition, address)).Allowance);
    }

    [Fact]
    public async Task A_failed_send_gives_its_lease_back_but_only_its_own()
    {
        var ledger = Ledger();
        var (request, petition, address) = (Guid.NewGuid(), Guid.NewGuid(), RandomNumberGenerator.GetBytes(32));
        var (_, lease) = await ledger.AllowAsync(request, petition, address);

        await ledger.ReleaseAsync(request, address, "not-the-holder");
        Assert.Equal(MailAllowance.Busy, (await ledger.AllowAsync(request, petition, address)).Allowance);
        await ledger.ReleaseAsync(request, address, lease!);
        Assert.Equal(MailAllowance.Send, (await ledger.AllowAsync(request, petition, address)).Allowance);
    }

    [Fact]
    public async Task The_caps_are_taken_once_per_request_however_often_it_is_delivered()
    {
        var ledger = Ledger(perPetition: 2);
        var (petition, address) = (Guid.NewGuid(), RandomNumberGenerator.GetBytes(32));
        var requests = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();

        var answers = new List<MailAllowance>();
        foreach (var request in requests)
        {
            var (allowance, lease) = await ledger.AllowAsync(request, petition, address);
            answers.Add(allowance);
            if (lease is not null) await ledger.ReleaseAsync(request, address, lease); // a failed send, delivered again below
        }

        // Redelivered: the two allowed stay allowed, the capped one stays capped, and no cap moved.
        foreach (var request in requests) answers.Add((await ledger.AllowAsync(request, petition, address)).Allowance);
        Assert.Equal([MailAllowance.Send, MailAllowance.Send, MailAllowance.Capped, MailAllowance.Send, MailAllowance.Send, MailAllowance.Capped], answers);
        Assert.Equal(MailAllowance.Send, (await Ledger(perPetition: 2).AllowAsync(Guid.NewGuid(), Guid.NewGuid(), address)).Allowance); // another petition
    }
}
