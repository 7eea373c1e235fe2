using OpenTelemetry.Trace;
using Petition.ServiceDefaults;
using StackExchange.Redis;

namespace Petition.Worker.Dedup;

/// <summary>Registers the first line of deduplication.</summary>
public static class DedupExtensions
{
    /// <summary>
    /// The Redis dedup cache from the connection string "Redis", the connection's spans (when traces are exported),
    /// the deduplicator that uses it, and its readiness check.
    /// </summary>
    public static IHostApplicationBuilder AddDedupCache(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not configured.");
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => RedisDedupCache.Connect(configuration));
        builder.Services.AddSingleton<IDedupCache, RedisDedupCache>();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddRedisInstrumentation());
        builder.Services.AddSingleton<SignatureDeduplicator>();
        builder.Services.AddHealthChecks().AddCheck<DedupCacheHealthCheck>("redis", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}

/// <summary>
/// <see cref="IDedupCache"/> on Redis: one hash per petition, field = dedup key, value = the id of the
/// committed signature that owns it. The only file that knows the Redis client (StackExchange.Redis).
/// </summary>
public sealed class RedisDedupCache(IConnectionMultiplexer redis) : IDedupCache
{
    internal static ConnectionMultiplexer Connect(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false; // start without Redis; PostgreSQL deduplicates alone meanwhile
        // A stopped Redis fails every call at once instead of queueing it for a reconnect: the batch goes on
        // through PostgreSQL alone rather than waiting.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2000;
        options.SyncTimeout = 2000;
        options.AsyncTimeout = 2000; // a Redis that hangs must not hang the batch
        return ConnectionMultiplexer.Connect(options);
    }

    // 1 where the signer is owned by another signature, 0 where it is free or owned by this one.
    private const string FindTakenScript = """
        local result = {}
        for i = 1, #KEYS do
          local owner = redis.call('HGET', KEYS[i], ARGV[2 * i - 1])
          result[i] = (owner and owner ~= ARGV[2 * i]) and 1 or 0
        end
        return result
        """;

    private const string RecordScript = """
        for i = 1, #KEYS do
          redis.call('HSET', KEYS[i], ARGV[2 * i - 1], ARGV[2 * i])
        end
        return #KEYS
        """;

    private const string ForgetScript = """
        for i = 1, #KEYS do
          redis.call('HDEL', KEYS[i], ARGV[i])
        end
        return #KEYS
        """;

    public bool IsConnected => redis.IsConnected;

    public async Task<bool[]> FindTakenAsync(IReadOnlyList<DedupClaim> claims)
    {
        var (keys, values) = Arguments(claims);
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(FindTakenScript, keys, values))!;
        return Array.ConvertAll(result, r => (long)r == 1);
    }

    public Task RecordAsync(IReadOnlyList<DedupClaim> committed)
    {
        var (keys, values) = Arguments(committed);
        return redis.GetDatabase().ScriptEvaluateAsync(RecordScript, keys, values);
    }

    public Task ForgetAsync(IReadOnlyList<(Guid PetitionId, byte[] DedupKey)> signers) =>
        redis.GetDatabase().ScriptEvaluateAsync(ForgetScript,
            [.. signers.Select(s => (RedisKey)SignersOf(s.PetitionId))], [.. signers.Select(s => (RedisValue)s.DedupKey)]);

    public Task ForgetPetitionAsync(Guid petitionId) => redis.GetDatabase().KeyDeleteAsync(SignersOf(petitionId));

    public Task<TimeSpan> PingAsync() => redis.GetDatabase().PingAsync();

    private static (RedisKey[] Keys, RedisValue[] Values) Arguments(IReadOnlyList<DedupClaim> claims)
    {
        var keys = new RedisKey[claims.Count];
        var values = new RedisValue[claims.Count * 2];
        for (var i = 0; i < claims.Count; i++)
        {
            keys[i] = SignersOf(claims[i].PetitionId);
            values[2 * i] = claims[i].DedupKey;
            values[2 * i + 1] = claims[i].SignatureId.ToByteArray();
        }

        return (keys, values);
    }

    private static string SignersOf(Guid petitionId) => $"petition:{petitionId:N}:signers";
}
