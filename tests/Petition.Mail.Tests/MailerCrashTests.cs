using Petition.Testing;

namespace Petition.Mail.Tests;

/// <summary>The mailer killed while it sends: no mail is lost, and only a mail caught between the relay's 250 and the ack goes twice.</summary>
public sealed class MailerCrashTests : IAsyncLifetime
{
    private const int Signers = 400;
    private const int ConcurrencyLimit = 2;
    private readonly PetitionSystem _system = new();

    public Task InitializeAsync() => _system.InitializeAsync();

    public Task DisposeAsync() => _system.DisposeAsync();

    [Fact]
    public async Task A_mailer_killed_mid_send_and_started_again_loses_no_mail()
    {
        _system.StartWorker();
        var petition = await _system.CreatePetitionAsync(confirmation: "email");
        var signers = Enumerable.Range(0, Signers).Select(i => Signer.Unique(i) with { Email = $"crash-{Guid.NewGuid():N}@example.org" }).ToList();
        await Task.WhenAll(signers.Chunk(30).Select(async chunk =>
        {
            foreach (var signer in chunk) Assert.Equal(System.Net.HttpStatusCode.Accepted, (await _system.SignAsync(petition, signer)).StatusCode);
        }));
        await PetitionSystem.WaitUntilAsync(async () => (await PetitionSystem.CountsAsync(petition)).Awaiting == Signers, TimeSpan.FromSeconds(60), "every signature to be stored");

        // A backlog is waiting in the broker; a mailer starts on it and is killed (no ack, no flush) part way.
        var mailer = _system.StartMailer(new Dictionary<string, string> { ["Mail:ConcurrencyLimit"] = ConcurrencyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await PetitionSystem.WaitUntilAsync(() => Task.FromResult(Delivered(signers).Count >= Signers / 5), TimeSpan.FromSeconds(90), "a fifth of the mails to be sent");
        mailer.Kill();
        await mailer.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var beforeRestart = Delivered(signers).Count;
        Assert.True(beforeRestart < Signers, "the mailer was killed after it had sent everything: nothing was tested");

        var second = _system.StartMailer(new Dictionary<string, string> { ["Mail:ConcurrencyLimit"] = ConcurrencyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await PetitionSystem.WaitUntilAsync(() => Task.FromResult(Delivered(signers).Count == Signers), TimeSpan.FromSeconds(120), "every signer to have a mail",
            () => $"{Delivered(signers).Count} of {Signers}; second mailer: {second.Output[^Math.Min(2000, second.Output.Length)..]}");

        await Task.Delay(2_000); // any second copy would have landed by now
        var delivered = Delivered(signers);
        var twice = delivered.Values.Sum(n => n - 1);
        Assert.All(delivered.Values, n => Assert.InRange(n, 1, 2));
        // Only a mail between its 250 and its mark can go again: at most one per mail in flight when it died.
        Assert.InRange(twice, 0, ConcurrencyLimit);
    }

    private static Dictionary<string, int> Delivered(IEnumerable<Signer> signers)
    {
        var counts = LocalMailbox.CountByRecipient();
        return signers.Where(s => counts.ContainsKey(s.Email)).ToDictionary(s => s.Email, s => counts[s.Email]);
    }
}
