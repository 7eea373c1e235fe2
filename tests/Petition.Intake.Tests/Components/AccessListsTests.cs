using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Petition.Intake.Access;
using Petition.Storage;

namespace Petition.Intake.Tests.Components;

/// <summary>
/// The access lists in process over PostgreSQL, on a manual clock: what another intake changes applies here at the
/// next reload, what this one changes at once. Their own database: a block here would refuse other tests' signers.
/// </summary>
public sealed class AccessListsTests : IAsyncLifetime
{
    private const string Database = "petition_access_lists";

    private NpgsqlDataSource _dataSource = null!;
    private AccessRepository _repository = null!;

    public async Task InitializeAsync()
    {
        await TestServers.EnsureDatabaseAsync(Database);
        _dataSource = NpgsqlDataSource.Create(TestServers.PostgresDatabase(Database));
        await new SchemaMigrator(_dataSource).MigrateAsync(CancellationToken.None);
        _repository = new AccessRepository(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task An_issued_key_validates_by_its_secret_only_and_once_revoked_elsewhere_stops_at_the_next_reload()
    {
        var keyId = Guid.NewGuid();
        var (presented, hash) = AccessLists.NewSecret(keyId);
        await _repository.CreateKeyAsync(new ApiKeyRecord(keyId, "campaign site", "partner", hash, 60, DateTimeOffset.UtcNow, "test", null), CancellationToken.None);
        await using var lists = await Lists.StartAsync(_repository);

        var key = lists.Access.Validate(presented);
        Assert.NotNull(key);
        Assert.Equal((keyId, "partner", 60), (key.KeyId, key.Scope, key.PerMinute));
        Assert.Null(lists.Access.Validate(presented[..^1] + (presented[^1] == 'A' ? 'B' : 'A'))); // another secret
        Assert.Null(lists.Access.Validate(AccessLists.NewSecret(Guid.NewGuid()).Presented));    // an unknown key
        Assert.Null(lists.Access.Validate("pk_" + presented[3..].Replace('_', '-')));           // malformed

        Assert.True(await _repository.RevokeKeyAsync(keyId, "another intake", CancellationToken.None));
        Assert.NotNull(lists.Access.Validate(presented)); // until the next reload
        await lists.NextReloadAsync();

        Assert.Null(lists.Access.Validate(presented));
    }

    [Fact]
    public async Task A_block_made_by_another_intake_applies_at_the_next_reload_one_made_here_at_once()
    {
        var network = $"10.{Random.Shared.Next(256)}.{Random.Shared.Next(256)}.0/24";
        var domain = $"throwaway-{Guid.NewGuid():N}.example";
        var email = RandomNumberGenerator.GetBytes(32);
        var signer = IPAddress.Parse(network.Replace("0/24", "7", StringComparison.Ordinal));
        await using var lists = await Lists.StartAsync(_repository);

        await _repository.CreateBlockAsync(Block("address", address: IPNetwork.Parse(network)), CancellationToken.None);
        Assert.Null(lists.Access.Refusal(signer, "example.org", email));
        await lists.NextReloadAsync();
        Assert.Equal("Signatures from this network are not accepted.", lists.Access.Refusal(signer, "example.org", email));
        Assert.NotNull(lists.Access.Refusal(signer.MapToIPv6(), "example.org", email)); // the same address, IPv4-mapped
        Assert.Null(lists.Access.Refusal(IPAddress.Parse("192.0.2.1"), "example.org", email));

        await _repository.CreateBlockAsync(Block("email-domain", domain: domain), CancellationToken.None);
        await _repository.CreateBlockAsync(Block("email", dedupKey: email), CancellationToken.None);
        await lists.Access.ReloadAfterChangeAsync(CancellationToken.None);

        Assert.Equal("Signatures with email addresses at this domain are not accepted.", lists.Access.Refusal(null, domain, RandomNumberGenerator.GetBytes(32)));
        Assert.NotNull(lists.Access.Refusal(null, "mx." + domain, RandomNumberGenerator.GetBytes(32))); // and every domain under it
        Assert.Null(lists.Access.Refusal(null, "not" + domain, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal("Signatures with this email address are not accepted.", lists.Access.Refusal(null, "example.org", email));
    }

    private static BlockRecord Block(string kind, IPNetwork? address = null, string? domain = null, byte[]? dedupKey = null) =>
        new(Guid.NewGuid(), kind, address, domain, dedupKey, "a test", DateTimeOffset.UtcNow, "another intake");

    /// <summary>Started access lists, loaded, their reloads on a manual clock.</summary>
    private sealed class Lists : IAsyncDisposable
    {
        private readonly ManualClock _clock = new();

        private Lists(AccessRepository repository) => Access = new AccessLists(repository, _clock, NullLogger<AccessLists>.Instance);

        public AccessLists Access { get; }

        public static async Task<Lists> StartAsync(AccessRepository repository)
        {
            var lists = new Lists(repository);
            await lists.Access.StartAsync(CancellationToken.None);
            await lists._clock.WaitForTimerAsync(AccessLists.ReloadInterval); // loaded, and waiting to reload
            Assert.True(lists.Access.IsLoaded);
            return lists;
        }

        /// <summary>Moves the clock to the next periodic reload and waits until it is done.</summary>
        public async Task NextReloadAsync()
        {
            var timers = _clock.TimersStarted;
            _clock.Advance(AccessLists.ReloadInterval);
            await _clock.WaitForTimerAsync(AccessLists.ReloadInterval, since: timers);
        }

        public async ValueTask DisposeAsync()
        {
            await Access.StopAsync(CancellationToken.None);
            Access.Dispose();
        }
    }
}
