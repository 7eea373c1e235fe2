using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Petition.Contracts;
using Petition.Intake.Acceptance;
using Petition.Intake.Access;
using Petition.Intake.Petitions;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake.Tests;

/// <summary>
/// The acceptance rules on their own, without HTTP or servers: the petition's gate, the signature minted with
/// its keys, and the blocks. The catalog and the access lists are loaded by hand; nothing connects.
/// </summary>
public sealed class SignatureAcceptanceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ValidSignature Ada = new("Ada Lovelace", "Ada@Example.org", "GB", "SW1A 1AA");

    private readonly NpgsqlDataSource _nowhere = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
    private readonly SigningKeys _keys = new(Options.Create(new IntakeOptions
    {
        DedupSecret = "a-dedup-secret-for-these-tests",
        ContactEmailKey = "a-contact-key-for-these-tests",
    }));

    private readonly PetitionCatalog _catalog;
    private readonly AccessLists _access;
    private readonly SignatureAcceptance _acceptance;

    public SignatureAcceptanceTests()
    {
        _catalog = new PetitionCatalog(new PetitionChanges(_nowhere), new PetitionRepository(_nowhere), NullLogger<PetitionCatalog>.Instance);
        _access = new AccessLists(new AccessRepository(_nowhere), TimeProvider.System, NullLogger<AccessLists>.Instance);
        _acceptance = new SignatureAcceptance(_catalog, _access, _keys, new FixedClock(Now));
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _access.Dispose();
        _nowhere.Dispose();
    }

    [Fact]
    public void Nothing_is_judged_before_both_the_petitions_and_the_access_lists_have_loaded()
    {
        var petition = NewPetition();

        Assert.Equal(PetitionGate.NotReady, _acceptance.Gate(petition.PetitionId));
        _catalog.Load([petition]);
        Assert.Equal(PetitionGate.NotReady, _acceptance.Gate(petition.PetitionId));
        _access.Load([], []);
        Assert.Equal(PetitionGate.Open, _acceptance.Gate(petition.PetitionId));
    }

    [Fact]
    public void An_unknown_petition_is_not_found_and_one_closed_by_an_admin_or_by_its_closing_time_is_closed()
    {
        var (open, closing, closedByAdmin, expired) =
            (NewPetition(), NewPetition(closesAt: Now.AddSeconds(1)), NewPetition(closedAt: Now.AddDays(-1)), NewPetition(closesAt: Now));
        Load([open, closing, closedByAdmin, expired]);

        Assert.Equal(PetitionGate.NotFound, _acceptance.Gate(Guid.NewGuid()));
        Assert.Equal(PetitionGate.Open, _acceptance.Gate(open.PetitionId));
        Assert.Equal(PetitionGate.Open, _acceptance.Gate(closing.PetitionId));
        Assert.Equal(PetitionGate.Closed, _acceptance.Gate(closedByAdmin.PetitionId));
        Assert.Equal(PetitionGate.Closed, _acceptance.Gate(expired.PetitionId));
    }

    [Fact]
    public void A_signature_is_minted_with_the_dedup_key_of_its_canonical_email_and_without_the_email_when_there_is_no_consent()
    {
        Load([]);
        var petitionId = Guid.NewGuid();

        var (signature, refusal) = _acceptance.Accept(Ada, petitionId, SignatureSource.Online, IPAddress.Parse("203.0.113.7"));
        var (again, _) = _acceptance.Accept(Ada with { Email = "ada@example.org" }, petitionId, SignatureSource.Online, null);

        Assert.Null(refusal);
        Assert.NotNull(signature);
        Assert.Equal(7, signature.SignatureId.Version);
        Assert.Equal(petitionId, signature.PetitionId);
        Assert.Equal(_keys.Dedup.KeyFor("ada@example.org"), signature.DedupKey);
        Assert.Equal(signature.DedupKey, again!.DedupKey);
        Assert.NotEqual(signature.SignatureId, again.SignatureId);
        Assert.Equal("example.org", signature.EmailDomain);
        Assert.Null(signature.ContactEmail);
        Assert.Equal(("Ada Lovelace", "GB", "SW1A 1AA"), (signature.Name, signature.Country, signature.PostalCode));
        Assert.Equal(("203.0.113.7", SignatureSource.Online, Now), (signature.ClientAddress, signature.Source, signature.SubmittedAt));
        Assert.True(_keys.Withdrawal.Verify(signature.SignatureId, _acceptance.WithdrawalTokenFor(signature)));
        Assert.False(_keys.Withdrawal.Verify(again.SignatureId, _acceptance.WithdrawalTokenFor(signature)));
    }

    [Fact]
    public void With_consent_the_email_travels_encrypted_for_that_signature_alone()
    {
        Load([]);

        var (signature, _) = _acceptance.Accept(Ada with { ContactConsent = true }, Guid.NewGuid(), SignatureSource.Offline, null);

        Assert.NotNull(signature?.ContactEmail);
        Assert.DoesNotContain("ada", System.Text.Encoding.UTF8.GetString(signature.ContactEmail), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("ada@example.org", _keys.Contact.TryUnprotect(signature.ContactEmail, signature.SignatureId));
        Assert.Null(_keys.Contact.TryUnprotect(signature.ContactEmail, Guid.NewGuid()));
    }

    [Fact]
    public void A_blocked_network_domain_or_email_is_refused_and_a_paper_signature_escapes_only_the_network_block()
    {
        Load([], Block(address: IPNetwork.Parse("203.0.113.0/24")), Block(domain: "throwaway.example"), Block(dedupKey: _keys.Dedup.KeyFor("bot@example.org")));
        var petitionId = Guid.NewGuid();
        string? RefusalOf(ValidSignature valid, string? address) =>
            _acceptance.Accept(valid, petitionId, address is null ? SignatureSource.Offline : SignatureSource.Online, address is null ? null : IPAddress.Parse(address)) switch
            {
                (null, { } refusal) => refusal,
                ({ }, null) => null,
                var neither => throw new InvalidOperationException($"Neither a signature nor a refusal: {neither}"),
            };

        Assert.NotNull(RefusalOf(Ada, "203.0.113.99"));
        Assert.NotNull(RefusalOf(Ada, "::ffff:203.0.113.99"));
        Assert.Null(RefusalOf(Ada, "203.0.114.1"));
        Assert.Null(RefusalOf(Ada, null));
        Assert.NotNull(RefusalOf(Ada with { Email = "x@mx.throwaway.example" }, null));
        Assert.NotNull(RefusalOf(Ada with { Email = "Bot@Example.org" }, null));
        Assert.Null(RefusalOf(Ada with { Email = "x@throwaway.example.org" }, "203.0.114.1"));
    }

    [Fact]
    public void Only_a_traced_request_gives_its_traceparent_to_the_signature()
    {
        Load([]);
        using var source = new ActivitySource($"acceptance-test-{Guid.NewGuid():N}");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "traced" ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);

        string? TraceParentUnder(string request)
        {
            using var activity = source.StartActivity(request);
            Assert.NotNull(activity);
            return _acceptance.Accept(Ada, Guid.NewGuid(), SignatureSource.Online, null).Signature!.TraceParent;
        }

        var traced = TraceParentUnder("traced");
        Assert.NotNull(traced);
        Assert.True(ActivityContext.TryParse(traced, null, out var context) && context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded));
        Assert.Null(TraceParentUnder("untraced"));
    }

    private void Load(IEnumerable<PetitionRecord> petitions, params BlockRecord[] blocks)
    {
        _catalog.Load(petitions);
        _access.Load([], blocks);
    }

    private static PetitionRecord NewPetition(DateTimeOffset? closesAt = null, DateTimeOffset? closedAt = null) =>
        new(Guid.NewGuid(), "A petition", "", 100, closesAt, closedAt, Now.AddDays(-7));

    private static BlockRecord Block(IPNetwork? address = null, string? domain = null, byte[]? dedupKey = null) =>
        new(Guid.NewGuid(), "test", address, domain, dedupKey, "a test", Now, "a test");

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
