using System.Net;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Petition.Contracts;
using RabbitMQ.Client;

namespace Petition.Pipeline.Tests;

/// <summary>Each test gets a system of its own, so its workers can crash and be killed freely.</summary>
public sealed class WorkerFailureTests
{
    [Theory]
    [InlineData("AfterDedup")]
    [InlineData("AfterCopy")]
    [InlineData("AfterCommit")]
    [InlineData("BeforeAck")]
    public async Task Worker_dying_at_any_step_of_a_batch_loses_nothing_and_counts_nothing_twice(string step)
    {
        await using var system = await StartAsync();
        var petition = await system.CreatePetitionAsync();
        var signers = Enumerable.Range(0, 450).Select(Signer.Unique).ToList();
        // Posted before any worker runs, so the first batch is large; 50 are repeats of earlier signers.
        await PostAllAsync(system, petition, signers.Concat(signers.Take(50).Select(s => s.Again())));

        var crashing = system.StartWorker(new Dictionary<string, string> { ["Worker:CrashAt"] = step });
        Assert.True(await crashing.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the worker should have crashed at " + step + ":\n" + crashing.Output);
        Assert.Contains("Fault injection: crashing at " + step, crashing.Output, StringComparison.Ordinal);

        system.StartWorker();
        await PetitionSystem.AssertStoredExactlyAsync(petition, 450);
        Assert.Equal(50, (await PetitionSystem.CountsAsync(petition)).Duplicates);
    }

    [Fact]
    public async Task Without_redis_the_worker_keeps_storing_and_postgres_deduplicates()
    {
        await using var system = await StartAsync();
        var petition = await system.CreatePetitionAsync();
        var signers = Enumerable.Range(0, 300).Select(Signer.Unique).ToList();
        var worker = system.StartWorker(new Dictionary<string, string> { ["ConnectionStrings:Redis"] = "127.0.0.1:1,abortConnect=false" });

        await PostAllAsync(system, petition, signers.Concat(signers.Take(100).Select(s => s.Again())));

        await PetitionSystem.AssertStoredExactlyAsync(petition, 300);
        Assert.Equal(100, (await PetitionSystem.CountsAsync(petition)).Duplicates);
        Assert.Contains("deduplicating through PostgreSQL alone", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_postgres_cannot_store_goes_to_the_error_queue_with_its_reason_and_its_batch_mates_are_stored()
    {
        await using var system = await StartAsync();
        var petition = await system.CreatePetitionAsync();
        var bus = system.Intake.Services.GetRequiredService<IBus>();
        var queue = await bus.GetSendEndpoint(new Uri($"queue:{system.Queue}"));
        // Sent straight to the queue, past the intake's validation: PostgreSQL refuses a NUL in text.
        var poison = Message(petition, "Bad\0Name");
        var good = Enumerable.Range(0, 5).Select(i => Message(petition, $"Good {i}")).ToList();
        foreach (var message in good.Take(2).Append(poison).Concat(good.Skip(2))) await queue.Send(message);

        system.StartWorker();

        await PetitionSystem.AssertStoredExactlyAsync(petition, 5);
        var factory = new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        BasicGetResult? parked = null;
        await PetitionSystem.WaitUntilAsync(async () => (parked = await channel.BasicGetAsync(system.Queue + "_error", autoAck: true)) is not null,
            TimeSpan.FromSeconds(30), "the poison message in the error queue");
        var reason = Encoding.UTF8.GetString((byte[])parked!.BasicProperties.Headers!["Petition-Poison-Reason"]!);
        Assert.StartsWith("22021", reason, StringComparison.Ordinal);
        Assert.Contains(poison.BatchId.ToString("N"), Encoding.UTF8.GetString(parked.Body.Span).Replace("-", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private static StoreSignatures Message(Guid petition, string name) => new()
    {
        BatchId = Guid.NewGuid(),
        Signatures =
        [
            new AcceptedSignature
            {
                SignatureId = Guid.CreateVersion7(), PetitionId = petition, DedupKey = Guid.NewGuid().ToByteArray(),
                Name = name, Country = "GB", Source = SignatureSource.Online, SubmittedAt = DateTimeOffset.UtcNow,
            },
        ],
    };

    private static async Task<PetitionSystem> StartAsync()
    {
        var system = new PetitionSystem();
        await system.InitializeAsync();
        return system;
    }

    internal static async Task PostAllAsync(PetitionSystem system, Guid petition, IEnumerable<Signer> signers, int parallelism = 50) =>
        await Parallel.ForEachAsync(signers, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (signer, _) =>
        {
            var response = await system.SignAsync(petition, signer);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        });
}
