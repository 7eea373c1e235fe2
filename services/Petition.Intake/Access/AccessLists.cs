using System.Buffers.Text;
using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Petition.Storage;

namespace Petition.Intake.Access;

/// <summary>
/// The issued API keys and the block list, held in memory so neither signing nor authenticating waits on
/// PostgreSQL. Reloaded every <see cref="ReloadInterval"/>, so a key revoked or a block added through
/// another intake applies here within that time (at once on the intake that made the change). While
/// PostgreSQL is unreachable the last lists stay in force.
/// </summary>
internal sealed class AccessLists(AccessRepository repository, TimeProvider time, ILogger<AccessLists> logger) : BackgroundService
{
    public static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(5);
    private const string KeyPrefix = "pk_";

    private sealed record Snapshot(
        FrozenDictionary<Guid, ApiKeyRecord> Keys, IPNetwork[] Addresses, FrozenSet<string> Domains, FrozenSet<string> Emails);

    private volatile Snapshot? _snapshot;
    private readonly SemaphoreSlim _reloading = new(1, 1);

    /// <summary>True once both lists were loaded.</summary>
    public bool IsLoaded => _snapshot is not null;

    /// <summary>A new key's secret as handed out once: prefix, key id, random part. Only the random part's hash is stored.</summary>
    public static (string Presented, byte[] SecretHash) NewSecret(Guid keyId)
    {
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return ($"{KeyPrefix}{keyId:N}_{secret}", SHA256.HashData(Encoding.ASCII.GetBytes(secret)));
    }

    /// <summary>Whether a presented key has the form of an issued one (any other is the configured key's to judge).</summary>
    public static bool LooksIssued(string presented) => presented.StartsWith(KeyPrefix, StringComparison.Ordinal);

    /// <summary>The live key a presented secret belongs to, or null; the secret is compared in constant time.</summary>
    public IssuedApiKey? Validate(string presented)
    {
        // pk_<32 hex id>_<secret>: the id finds the key, the secret's hash must match it.
        if (_snapshot is not { } snapshot || presented.Length > 128 || !presented.StartsWith(KeyPrefix, StringComparison.Ordinal)
            || presented.Length < KeyPrefix.Length + 34 || presented[KeyPrefix.Length + 32] != '_'
            || !Guid.TryParseExact(presented.AsSpan(KeyPrefix.Length, 32), "N", out var keyId)
            || !snapshot.Keys.TryGetValue(keyId, out var key) || key.RevokedAt is not null)
            return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented[(KeyPrefix.Length + 33)..]));
        return CryptographicOperations.FixedTimeEquals(hash, key.SecretHash) ? new IssuedApiKey(key.KeyId, key.Name, key.Scope, key.PerMinute, key.Vouches) : null;
    }

    /// <summary>Why a signer may not sign (for the problem's detail), or null when nothing blocks them.</summary>
    public string? Refusal(IPAddress? address, string emailDomain, byte[] dedupKey)
    {
        var snapshot = _snapshot;
        if (snapshot is null) return null;
        if (address is not null)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            foreach (var network in snapshot.Addresses)
            {
                if (network.Contains(address)) return "Signatures from this network are not accepted.";
            }
        }

        // The domain and every parent of it: a block on throwaway.example covers mx.throwaway.example.
        for (var domain = emailDomain; snapshot.Domains.Count > 0;)
        {
            if (snapshot.Domains.Contains(domain)) return "Signatures with email addresses at this domain are not accepted.";
            var dot = domain.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0) break;
            domain = domain[(dot + 1)..];
        }

        if (snapshot.Emails.Count > 0 && snapshot.Emails.Contains(Convert.ToHexString(dedupKey))) return "Signatures with this email address are not accepted.";
        return null;
    }

    /// <summary>
    /// Reloads after a change made here, so it applies before the next periodic reload. The change is
    /// committed already: a failure here is logged, not thrown, and the periodic reload catches up.
    /// </summary>
    public async Task ReloadAfterChangeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReloadAsync(cancellationToken);
        }
        catch (Exception e) when (PostgresErrors.IsTransient(e))
        {
            logger.AccessListsNotRead(e.Message);
        }
    }

    /// <summary>Reloads now.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            Load(await repository.ListKeysAsync(cancellationToken), await repository.ListBlocksAsync(cancellationToken));
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>Puts lists in force, as read from PostgreSQL (and by tests, without it).</summary>
    internal void Load(IReadOnlyList<ApiKeyRecord> keys, IReadOnlyList<BlockRecord> blocks)
    {
        var first = _snapshot is null;
        _snapshot = new Snapshot(
            keys.ToFrozenDictionary(k => k.KeyId),
            [.. blocks.Where(b => b.Address is not null).Select(b => b.Address!.Value)],
            blocks.Where(b => b.EmailDomain is not null).Select(b => b.EmailDomain!).ToFrozenSet(StringComparer.Ordinal),
            blocks.Where(b => b.DedupKey is not null).Select(b => Convert.ToHexString(b.DedupKey!)).ToFrozenSet(StringComparer.Ordinal));
        if (first) logger.AccessListsLoaded(keys.Count, blocks.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception e) when (PostgresErrors.IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                logger.AccessListsNotRead(e.Message);
            }

            await Task.Delay(IsLoaded ? ReloadInterval : TimeSpan.FromSeconds(1), time, stoppingToken);
        }
    }
}

/// <summary>Not ready until the lists have loaded: before that a blocked signer or a partner key would not be recognised.</summary>
internal sealed class AccessListsHealthCheck(AccessLists lists) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lists.IsLoaded ? HealthCheckResult.Healthy("API keys and blocks loaded.") : HealthCheckResult.Unhealthy("API keys and blocks not loaded yet."));
}
