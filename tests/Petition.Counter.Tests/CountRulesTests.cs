using Petition.Counter.Counting;

namespace Petition.Counter.Tests;

public sealed class CountRulesTests
{
    private static readonly Guid Petition = Guid.NewGuid();

    private static PetitionCount Count(long total, long version, long target = 1_000) =>
        new(Petition, total, target, new Dictionary<string, long> { ["GB"] = total }, version, null, 0);

    [Fact]
    public void Totals_only_move_to_a_higher_version()
    {
        var counts = new PetitionCounts();

        Assert.True(counts.TryAdvance(Count(10, 2), out _));
        Assert.False(counts.TryAdvance(Count(5, 1), out _));   // late
        Assert.False(counts.TryAdvance(Count(10, 2), out _));  // replayed
        Assert.True(counts.TryAdvance(Count(12, 3), out var previous));

        Assert.Equal(10, previous!.Total);
        Assert.Equal(12, counts.Find(Petition)!.Total);
    }

    [Fact]
    public async Task Concurrent_out_of_order_updates_end_at_the_highest_version()
    {
        var counts = new PetitionCounts();
        var versions = Enumerable.Range(1, 1_000).OrderBy(_ => Random.Shared.Next()).ToList();

        await Parallel.ForEachAsync(versions, (v, ct) => { counts.TryAdvance(Count(v * 10, v), out var ignored); return ValueTask.CompletedTask; });

        Assert.Equal(1_000, counts.Find(Petition)!.Version);
        Assert.Equal(10_000, counts.Find(Petition)!.Total);
    }

    [Theory]
    [InlineData(0, 9, new long[0])]
    [InlineData(9, 10, new long[] { 10 })]
    [InlineData(0, 12_345, new long[] { 10, 100, 1_000, 10_000 })]
    [InlineData(100, 999, new long[0])]
    [InlineData(999, 1_000_000, new long[] { 1_000, 10_000, 100_000, 1_000_000 })]
    public void Every_power_of_ten_crossed_is_a_milestone(long before, long after, long[] expected)
    {
        var tracker = new MilestoneTracker(null!, null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<MilestoneTracker>.Instance);

        var crossed = tracker.Crossed(before, Count(after, 1, target: long.MaxValue)).Where(m => m.Kind == MilestoneTracker.PowerOfTen);

        Assert.Equal(expected, crossed.Select(m => m.Milestone));
    }

    [Theory]
    [InlineData(499, 500, true)]
    [InlineData(0, 10_000, true)]
    [InlineData(500, 501, false)]
    [InlineData(0, 499, false)]
    public void Crossing_the_target_is_a_milestone(long before, long after, bool expected)
    {
        var tracker = new MilestoneTracker(null!, null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<MilestoneTracker>.Instance);

        var crossed = tracker.Crossed(before, Count(after, 1, target: 500));

        Assert.Equal(expected, crossed.Any(m => m.Kind == MilestoneTracker.Target && m.Milestone == 500));
    }
}
