using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Petition.Mailer.Sending;

/// <summary>What the mailer decided about a mail request.</summary>
internal enum MailAllowance
{
    /// <summary>Within the caps: send it.</summary>
    Send,

    /// <summary>Over a cap for its address: not sent, now or on a redelivery.</summary>
    Capped,

    /// <summary>Sent already (the relay said 250): a redelivery of the request sends nothing.</summary>
    Sent,
}

/// <summary>
/// The mailer's memory, in Redis: per request, whether it may be sent or was sent; per address (its keyed hash),
/// how many mails it got about a petition (a week) and in a day. The caps are taken once per request, so a
/// redelivered request neither counts twice nor gets past a cap it met. All keys of one address share a hash slot.
/// </summary>
internal sealed class MailLedger(IConnectionMultiplexer redis, IOptions<MailerOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan RequestMemory = TimeSpan.FromDays(8);
    private static readonly TimeSpan PetitionWindow = TimeSpan.FromDays(7);
    private static readonly TimeSpan DayWindow = TimeSpan.FromDays(1);

    // KEYS: request, per petition, per day. ARGV: cap per petition, cap per day, and the three lifetimes (s).
    // The request's state: 1 allowed, 0 capped, 2 sent.
    private const string AllowScript = """
        local state = redis.call('GET', KEYS[1])
        if state then return tonumber(state) end
        local p = redis.call('INCR', KEYS[2])
        if p == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
        local d = redis.call('INCR', KEYS[3])
        if d == 1 then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
        local ok = 0
        if p <= tonumber(ARGV[1]) and d <= tonumber(ARGV[2]) then ok = 1 end
        redis.call('SET', KEYS[1], ok, 'EX', ARGV[3])
        return ok
        """;

    public async Task<MailAllowance> AllowAsync(Guid requestId, Guid petitionId, byte[] dedupKey)
    {
        var address = Convert.ToHexString(dedupKey);
        var day = clock.GetUtcNow().ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var result = (int)await redis.GetDatabase().ScriptEvaluateAsync(AllowScript,
            [RequestKey(address, requestId), $"mail:{{{address}}}:petition:{petitionId:N}", $"mail:{{{address}}}:day:{day}"],
            [options.Value.MaxPerAddressPerPetition, options.Value.MaxPerAddressPerDay,
             (long)RequestMemory.TotalSeconds, (long)PetitionWindow.TotalSeconds, (long)DayWindow.TotalSeconds]);
        return result switch { 1 => MailAllowance.Send, 2 => MailAllowance.Sent, _ => MailAllowance.Capped };
    }

    /// <summary>After the relay's 250: a redelivery of the request is not sent again (a crash before this is: at least once).</summary>
    public Task MarkSentAsync(Guid requestId, byte[] dedupKey) =>
        redis.GetDatabase().StringSetAsync(RequestKey(Convert.ToHexString(dedupKey), requestId), 2, RequestMemory);

    private static string RequestKey(string address, Guid requestId) => $"mail:{{{address}}}:request:{requestId:N}";
}
