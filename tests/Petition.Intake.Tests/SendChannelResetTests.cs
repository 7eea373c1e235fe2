using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Petition.Intake.Publishing;

namespace Petition.Intake.Tests;

/// <summary>
/// The intake's way out of a channel RabbitMQ 3.10 keeps nacking (see <see cref="SendChannelReset"/>): the
/// broker must really close the send channel, and the next signature must go out on a new one.
/// </summary>
public sealed class SendChannelResetTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    [Fact]
    public async Task After_a_reset_the_broker_has_closed_the_send_channel_and_signing_goes_on()
    {
        var petition = await system.CreatePetitionAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
        var brokerLog = Path.Combine(Environment.GetEnvironmentVariable("PETITION_DATA") ?? Path.Combine(TestServers.RepoRoot, ".data"),
            "rabbitmq", "log", $"petition-{new Uri(TestServers.RabbitMq).Port}@localhost.log");
        var refusalsBefore = Refusals(brokerLog);

        await system.Intake.Services.GetRequiredService<SendChannelReset>().AfterNackAsync();

        await PetitionSystem.WaitUntilAsync(() => Task.FromResult(Refusals(brokerLog) > refusalsBefore), TimeSpan.FromSeconds(10),
            "the broker to log the refused declare that closes the channel");
        Assert.Equal(HttpStatusCode.Accepted, (await system.SignAsync(petition, Signer.Unique())).StatusCode);
    }

    private static int Refusals(string brokerLog)
    {
        using var reader = new StreamReader(new FileStream(brokerLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var text = reader.ReadToEnd();
        return text.Split("amq.petition-reset-channel").Length - 1;
    }
}
