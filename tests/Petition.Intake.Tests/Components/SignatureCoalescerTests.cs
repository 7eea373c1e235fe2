using System.Collections.Concurrent;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Intake.Publishing;
using Petition.Messaging;

namespace Petition.Intake.Tests.Components;

/// <summary>
/// The coalescer over the real publisher on MassTransit's in-memory bus: no broker, no servers. Time is a manual
/// clock, and every message waits at the bus until the test confirms or refuses it, as a broker's confirm that has
/// not come yet.
/// </summary>
public sealed class SignatureCoalescerTests
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_lone_signature_waits_out_the_linger_and_goes_with_those_that_came_meanwhile()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = Linger });

        var first = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        await rig.Clock.WaitForTimerAsync(Linger);
        var timers = rig.Clock.TimersStarted;
        var second = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        await rig.Clock.WaitForTimerAsync(Linger, since: timers); // no time has passed: the first one's deadline is still a second away
        rig.Clock.Advance(Linger - TimeSpan.FromMilliseconds(1));
        await Task.Delay(100);
        Assert.Equal(0, rig.Sent);

        rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var message = await rig.NextMessageAsync();
        Assert.Equal(2, message.Signatures);
        Assert.False(first.IsCompleted, "answered before the broker confirmed");
        message.Confirm();
        await Task.WhenAll(first, second);
    }

    [Fact]
    public async Task A_full_message_goes_at_once_and_the_next_signature_starts_a_new_one()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = TimeSpan.FromHours(1), MaxSignaturesPerMessage = 3 });

        var signing = Enumerable.Range(0, 3).Select(_ => rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None)).ToList();

        var full = await rig.NextMessageAsync(); // the hour not passed
        Assert.Equal(3, full.Signatures);
        full.Confirm();
        await Task.WhenAll(signing);
        var timers = rig.Clock.TimersStarted;
        var fourth = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        await rig.Clock.WaitForTimerAsync(TimeSpan.FromHours(1), since: timers); // it waits for company
        Assert.Equal(1, rig.Sent);
        rig.Clock.Advance(TimeSpan.FromHours(1));
        var rest = await rig.NextMessageAsync();
        Assert.Equal(1, rest.Signatures);
        rest.Confirm();
        await fourth;
    }

    [Fact]
    public async Task No_more_than_MaxInFlight_messages_await_their_confirm_and_signatures_gather_meanwhile()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = TimeSpan.Zero, MaxInFlight = 2 });

        var signing = new List<Task> { rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None) };
        var first = await rig.NextMessageAsync();
        signing.Add(rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None));
        var second = await rig.NextMessageAsync();
        for (var i = 0; i < 8; i++) signing.Add(rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None));
        await Task.Delay(200);
        Assert.Equal(2, rig.Sent); // both slots taken: the eight wait

        first.Confirm();
        second.Confirm();
        var gathered = new List<Rig.Message>();
        while (gathered.Sum(m => m.Signatures) < 8)
        {
            var message = await rig.NextMessageAsync();
            gathered.Add(message);
            message.Confirm();
        }

        await Task.WhenAll(signing);
        Assert.InRange(gathered.Count, 1, 2); // not one message each
        Assert.Equal(2, rig.MostInFlight);
    }

    [Fact]
    public async Task On_shutdown_queued_signatures_are_still_sent_new_ones_are_refused_and_it_ends_after_the_last_confirm()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = TimeSpan.Zero, MaxInFlight = 1 });
        var first = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        var held = await rig.NextMessageAsync();
        var queued = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None); // waits for the one slot

        var stopping = rig.Coalescer.StopAsync(CancellationToken.None);

        await Assert.ThrowsAsync<BrokerUnavailableException>(() => rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None));
        held.Confirm();
        var drained = await rig.NextMessageAsync();
        Assert.Equal(1, drained.Signatures);
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "stopped before the last message was confirmed");
        drained.Confirm();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(first, queued);
    }

    [Fact]
    public async Task On_shutdown_a_lingering_signature_goes_at_once()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = TimeSpan.FromHours(1) });
        var signing = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        await rig.Clock.WaitForTimerAsync(TimeSpan.FromHours(1));

        var stopping = rig.Coalescer.StopAsync(CancellationToken.None);

        var message = await rig.NextMessageAsync(); // the hour not passed
        message.Confirm();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        await signing;
    }

    [Fact]
    public async Task A_message_the_bus_does_not_take_fails_every_signature_in_it_and_the_next_goes_on()
    {
        await using var rig = await Rig.StartAsync(new CoalescingOptions { Linger = Linger });
        var refused = new[] { rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None), rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None) };
        await rig.Clock.WaitForTimerAsync(Linger);
        rig.Clock.Advance(Linger);

        var message = await rig.NextMessageAsync();
        Assert.Equal(2, message.Signatures);
        message.Refuse();

        foreach (var signing in refused) await Assert.ThrowsAsync<BrokerUnavailableException>(() => signing);
        var timers = rig.Clock.TimersStarted;
        var next = rig.Coalescer.SubmitAsync(Signature(), CancellationToken.None);
        await rig.Clock.WaitForTimerAsync(Linger, since: timers);
        rig.Clock.Advance(Linger);
        (await rig.NextMessageAsync()).Confirm();
        await next;
    }

    private static AcceptedSignature Signature() => new()
    {
        SignatureId = Guid.NewGuid(),
        PetitionId = Guid.Empty,
        DedupKey = new byte[32],
        Name = "Signer",
        Country = "GB",
        Source = SignatureSource.Online,
        SubmittedAt = DateTimeOffset.UnixEpoch,
    };

    /// <summary>A started coalescer, its clock, and the messages it sent, each held at the bus until answered.</summary>
    private sealed class Rig : ISendObserver, IAsyncDisposable
    {
        private readonly Channel<Message> _sent = Channel.CreateUnbounded<Message>();
        private readonly ConcurrentQueue<Message> _all = new();
        private IBusControl _bus = null!;
        private int _inFlight;
        private int _mostInFlight;

        public ManualClock Clock { get; } = new();

        public SignatureCoalescer Coalescer { get; private set; } = null!;

        /// <summary>Messages that reached the bus so far.</summary>
        public int Sent => _all.Count;

        /// <summary>Most messages awaiting their answer at once.</summary>
        public int MostInFlight => Volatile.Read(ref _mostInFlight);

        public static async Task<Rig> StartAsync(CoalescingOptions options)
        {
            var rig = new Rig();
            rig._bus = Bus.Factory.CreateUsingInMemory(_ => { });
            rig._bus.ConnectSendObserver(rig);
            await rig._bus.StartAsync();
            var messaging = Options.Create(new MessagingOptions { SignatureQueue = "store-signatures-components", ConfirmTimeout = TimeSpan.FromMinutes(1) });
            var publisher = new SignaturePublisher(rig._bus, new SendChannelReset(rig._bus, NullLogger<SendChannelReset>.Instance), messaging, Options.Create(options));
            rig.Coalescer = new SignatureCoalescer(publisher, new PublishAdmission(Options.Create(options), rig.Clock), Options.Create(options), rig.Clock, NullLogger<SignatureCoalescer>.Instance);
            await rig.Coalescer.StartAsync(CancellationToken.None);
            return rig;
        }

        /// <summary>The next message sent (in real time, at most ten seconds).</summary>
        public async Task<Message> NextMessageAsync() => await _sent.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        public async Task PreSend<T>(SendContext<T> context) where T : class
        {
            if (context.Message is not StoreSignatures message) return;
            var held = new Message(message.Signatures.Count);
            var inFlight = Interlocked.Increment(ref _inFlight);
            for (var most = _mostInFlight; inFlight > most; most = _mostInFlight) Interlocked.CompareExchange(ref _mostInFlight, inFlight, most);
            _all.Enqueue(held);
            _sent.Writer.TryWrite(held);
            try
            {
                await held.Answered;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public async ValueTask DisposeAsync()
        {
            foreach (var message in _all) message.Confirm(); // nothing left waiting on an answer
            await Coalescer.StopAsync(CancellationToken.None);
            Coalescer.Dispose();
            await _bus.StopAsync();
        }

        /// <summary>One message at the bus, awaiting the test's answer.</summary>
        public sealed class Message(int signatures)
        {
            private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public int Signatures { get; } = signatures;

            public Task Answered => _answer.Task;

            public void Confirm() => _answer.TrySetResult();

            public void Refuse() => _answer.TrySetException(new InvalidOperationException("Refused by the test."));
        }
    }
}
