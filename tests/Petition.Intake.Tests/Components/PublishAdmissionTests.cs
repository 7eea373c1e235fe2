using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Petition.Intake;
using Petition.Intake.Publishing;

namespace Petition.Intake.Tests.Components;

/// <summary>Admission control on a manual clock: when the intake takes a signature, and when it answers 503 at once.</summary>
public sealed class PublishAdmissionTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Signatures_are_taken_while_those_waiting_would_be_confirmed_within_the_budget_at_the_measured_rate()
    {
        var admission = Admission();
        Confirm(admission, perSecond: 2_000, seconds: 2);
        Assert.InRange(admission.ConfirmRate, 1_900, 2_100);

        var taken = Take(admission, 2_000);
        Assert.InRange(taken.Count, 1_900, 2_100); // a second's worth at 2,000 a second
        Assert.False(admission.TryTake(1, out _, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        Assert.False(admission.HasRoom(out _)); // what a request is told before its body is read

        taken.ForEach(t => t.Dispose()); // answered
        Assert.Equal(0, admission.Waiting);
        Assert.True(admission.TryTake(1, out _, out _));
    }

    [Fact]
    public void Until_a_rate_is_measured_the_floor_is_assumed_and_an_import_larger_than_the_budget_is_taken_when_nothing_waits()
    {
        var admission = Admission();

        Assert.True(admission.TryTake(5_000, out var import, out _));
        Assert.False(admission.TryTake(1, out _, out _));
        import.Dispose();
        Assert.Equal(500, Take(admission, 1_000).Count); // the floor: 500 a second
    }

    [Fact]
    public void When_confirms_stop_the_rate_falls_and_fewer_are_taken()
    {
        var admission = Admission();
        Confirm(admission, perSecond: 10_000, seconds: 2);
        var before = Take(admission, 20_000);
        before.ForEach(t => t.Dispose());

        _clock.Advance(TimeSpan.FromSeconds(5)); // the broker blocked: nothing confirmed
        var during = Take(admission, 20_000);

        Assert.InRange(before.Count, 9_000, 11_000);
        Assert.InRange(during.Count, 1, 1_000);
    }

    private PublishAdmission Admission() =>
        new(Options.Create(new CoalescingOptions { AdmissionBudget = TimeSpan.FromSeconds(1), MinConfirmRate = 500 }), _clock);

    private void Confirm(PublishAdmission admission, int perSecond, int seconds)
    {
        for (var slice = 0; slice < seconds * 10; slice++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            admission.Confirmed(perSecond / 10);
        }
    }

    private static List<PublishAdmission.Ticket> Take(PublishAdmission admission, int most)
    {
        var taken = new List<PublishAdmission.Ticket>();
        while (taken.Count < most && admission.TryTake(1, out var ticket, out _)) taken.Add(ticket);
        return taken;
    }
}
