using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Petition.Intake.Publishing;

namespace Petition.Intake.Tests;

/// <summary>
/// The intake's way out of a channel RabbitMQ 3.10 keeps nacking (see <see cref="SendChannelReset"/>): the
/// broker must really close the send channel, and the next signature must go out on a new one.
/// </summary>
public sealed class SendChannelResetTests(SendChannelResetTests.SlowToTimeOut system) : IClassFixture<SendChannelResetTests.SlowToTimeOut>
{
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A confirm timeout far longer than any answer here, so an answer that waited for it shows.</summary>
    public sealed class SlowToTimeOut() : PetitionSystem(new Dictionary<string, string> { ["Messaging:ConfirmTimeout"] = ConfirmTimeout.ToString() });

    [Fact]
    public async Task After_a_reset_the_broker_has_closed_the_send_channel_and_signing_goes_on()
    {
        var petition = await system.CreatePetitionAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
        var refusalsBefore = Refusals(BrokerLog);

        var reset = system.Intake.Services.GetRequiredService<SendChannelReset>();

        // Asked again until it happens: a reset within a second of the last (the other test's, say) is skipped.
        await PetitionSystem.WaitUntilAsync(async () =>
            {
                await reset.AfterNackAsync();
                return Refusals(BrokerLog) > refusalsBefore;
            }, TimeSpan.FromSeconds(10), "the broker to log the refused declare that closes the channel");
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
    }

    [Fact]
    public async Task A_send_the_broker_nacks_gets_503_the_channel_is_replaced_and_signing_resumes_when_the_broker_accepts_again()
    {
        var petition = await system.CreatePetitionAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
        var refusalsBefore = Refusals(BrokerLog);

        // A full queue that rejects publishes: the broker nacks every send to it, as in the RabbitMQ 3.10 case.
        var policy = "refuse-" + system.Queue;
        await TestServers.ScriptAsync("servers.sh", "ctl", "set_policy", "--apply-to", "queues", policy, $"^{system.Queue}$",
            """{"max-length":0,"overflow":"reject-publish"}""");
        try
        {
            // Signing on until the nack shows and the channel is replaced (a reset within a second of the last is skipped).
            await PetitionSystem.WaitUntilAsync(async () =>
            {
                var asked = Stopwatch.StartNew();
                var refused = await system.SignAsync(petition, Signer.Unique());
                if (refused.StatusCode == HttpStatusCode.Accepted) return false; // the policy not applied yet
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.NotNull(refused.Headers.RetryAfter);
                // At the nack, not at the confirm timeout: MassTransit would repeat the refused publish until then.
                Assert.StartsWith("The broker refused the message.", (await refused.Content.ReadFromJsonAsync<ProblemDetails>())?.Detail, StringComparison.Ordinal);
                Assert.True(asked.Elapsed < ConfirmTimeout / 3, $"the 503 took {asked.Elapsed}");
                return Refusals(BrokerLog) > refusalsBefore;
            }, TimeSpan.FromSeconds(15), "the intake to replace its channel after a nack");
        }
        finally
        {
            await TestServers.ScriptAsync("servers.sh", "ctl", "clear_policy", policy);
        }

        await PetitionSystem.WaitUntilAsync(async () => (await system.SignAsync(petition, Signer.Unique())).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(15), "signing to resume");
    }

    private static string BrokerLog => Path.Combine(TestServers.DataFolder, "rabbitmq", "log", $"petition-{new Uri(TestServers.RabbitMq).Port}@localhost.log");

    private static int Refusals(string brokerLog)
    {
        using var reader = new StreamReader(new FileStream(brokerLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var text = reader.ReadToEnd();
        return text.Split("amq.petition-reset-channel").Length - 1;
    }
}
