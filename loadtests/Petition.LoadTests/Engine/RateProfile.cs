namespace Petition.LoadTests.Engine;

/// <summary>
/// An arrival rate over time, as consecutive phases of constant rate (open model: requests are due at
/// fixed times whatever the system answers). Request n is due at <see cref="DueAt"/>(n).
/// </summary>
internal sealed class RateProfile
{
    private readonly (TimeSpan Length, double PerSecond)[] _phases;

    public RateProfile(params (TimeSpan Length, double PerSecond)[] phases)
    {
        if (phases.Length == 0 || phases.Any(p => p.Length <= TimeSpan.Zero || p.PerSecond <= 0))
            throw new ArgumentException("Every phase needs a positive length and rate.", nameof(phases));
        _phases = phases;
        Total = (long)Math.Floor(phases.Sum(p => p.Length.TotalSeconds * p.PerSecond));
    }

    public static RateProfile Constant(double perSecond, TimeSpan length) => new((length, perSecond));

    /// <summary>How many requests the whole profile sends.</summary>
    public long Total { get; }

    public TimeSpan Length => TimeSpan.FromTicks(_phases.Sum(p => p.Length.Ticks));

    /// <summary>The offered rate at time <paramref name="t"/> from the start.</summary>
    public double RateAt(TimeSpan t)
    {
        foreach (var (length, rate) in _phases)
        {
            if (t < length) return rate;
            t -= length;
        }

        return 0;
    }

    /// <summary>When request <paramref name="n"/> (from 0) is due, from the start.</summary>
    public TimeSpan DueAt(long n)
    {
        var start = TimeSpan.Zero;
        double before = 0;
        foreach (var (length, rate) in _phases)
        {
            var inPhase = length.TotalSeconds * rate;
            if (n < before + inPhase) return start + TimeSpan.FromSeconds((n - before) / rate);
            before += inPhase;
            start += length;
        }

        return start;
    }
}
