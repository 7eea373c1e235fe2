using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Petition.Mailer.Sending;

/// <summary>What the mailer decided about a mail request.</summary>
internal enum MailAllowance
{
    /// <summary>Within the caps, and this delivery holds the lease on it: send it.</summary>
    Send,

    /// <summary>Over a cap for its address: not sent, now or on a redelivery.</summary>
    Capped,

    /// <summary>Sent already (the relay said 250): a redelivery of the request sends nothing.</summary>
    Sent,

    /// <summary>Another delivery of the same request is sending it (or died doing so, until its lease runs out): try later.</summary>
    Busy,
}

/// <summary>
/// The mailer's memory, in Redis: per request, whether it may be sent or was sent, and a lease held while it is being
/// sent; per address (its keyed hash), how many mails it got about a petition (a week) and in a day. The caps are
/// taken once per request, so a redelivered request neither counts twice nor gets past a cap it met; the lease keeps
/// two deliveries of one request from both sending. Only a sender that dies (or loses Redis) between the relay's 250
/// and its mark leaves the lease to run out, and the request is sent again. All keys of one address share a hash slot.
/// </summary>
internal sealed class MailLedger(IConnectionMultiplexer redis, IOptions<MailerOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan RequestMemory = TimeSpan.FromDays(8);
    private static readonly TimeSpan PetitionWindow = TimeSpan.FromDays(7);
    private static readonly TimeSpan DayWindow = TimeSpan.FromDays(1);

    /// <summary>How long one send may take, connection included; then it is given up (and retried).</summary>
    public static readonly TimeSpan SendDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Longer than a send and its mark may take together; a crash's lease runs out after it.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(45);

    // KEYS: request, its lease, per petition, per day. ARGV: cap per petition, cap per day, and the four lifetimes (s).
    // The request's state: 1 allowed, 0 capped, 2 sent. Answers: 1 send (lease taken), 0 capped, 2 sent, 3 busy.
    private const string AllowScript = """
        local state = redis.call('GET', KEYS[1])
        if state == '0' or state == '2' then return tonumber(state) end
        if not state then
          local p = redis.call('INCR', KEYS[3])
          if p == 1 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end
          local d = redis.call('INCR', KEYS[4])
          if d == 1 then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
          if p > tonumber(ARGV[1]) or d > tonumber(ARGV[2]) then
            redis.call('SET', KEYS[1], '0', 'EX', ARGV[3])
            return 0
          end
          redis.call('SET', KEYS[1], '1', 'EX', ARGV[3])
        end
        if redis.call('SET', KEYS[2], ARGV[7], 'NX', 'EX', ARGV[6]) then return 1 end
        return 3
        """;

    // The lease is its holder's: only the token that took it gives it back, so a delivery whose lease ran out
    // cannot free the one that took it over.
    private const string MarkSentScript = """
        redis.call('SET', KEYS[1], '2', 'EX', ARGV[1])
        if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
        return 1
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
        return 1
        """;

    /// <summary>What to do with the request, and the lease's token when it is this delivery's to send.</summary>
    public async Task<(MailAllowance Allowance, string? Lease)> AllowAsync(Guid requestId, Guid petitionId, byte[] dedupKey)
    {
        var address = Convert.ToHexString(dedupKey);
        var lease = Guid.NewGuid().ToString("N");
        var day = clock.GetUtcNow().ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var result = (int)await redis.GetDatabase().ScriptEvaluateAsync(AllowScript,
            [RequestKey(address, requestId), LeaseKey(address, requestId), $"mail:{{{address}}}:petition:{petitionId:N}", $"mail:{{{address}}}:day:{day}"],
            [options.Value.MaxPerAddressPerPetition, options.Value.MaxPerAddressPerDay,
             (long)RequestMemory.TotalSeconds, (long)PetitionWindow.TotalSeconds, (long)DayWindow.TotalSeconds, (long)Lease.TotalSeconds, lease]);
        return result switch
        {
            1 => (MailAllowance.Send, lease),
            2 => (MailAllowance.Sent, null),
            3 => (MailAllowance.Busy, null),
            _ => (MailAllowance.Capped, null),
        };
    }

    /// <summary>After the relay's 250, tried for a few seconds (within the lease): a redelivery of the request is not sent again.</summary>
    public async Task MarkSentAsync(Guid requestId, byte[] dedupKey, string lease)
    {
        var address = Convert.ToHexString(dedupKey);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await redis.GetDatabase().ScriptEvaluateAsync(MarkSentScript,
                    [RequestKey(address, requestId), LeaseKey(address, requestId)], [(long)RequestMemory.TotalSeconds, lease]);
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException && attempt < 8)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt));
            }
        }
    }

    /// <summary>A send that failed gives its lease back (if still its own), so a retry of the message sends it at once.</summary>
    public Task ReleaseAsync(Guid requestId, byte[] dedupKey, string lease) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [LeaseKey(Convert.ToHexString(dedupKey), requestId)], [lease]);

    private static string RequestKey(string address, Guid requestId) => $"mail:{{{address}}}:request:{requestId:N}";

    private static string LeaseKey(string address, Guid requestId) => $"mail:{{{address}}}:lease:{requestId:N}";
}
