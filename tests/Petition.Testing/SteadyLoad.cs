using System.Collections.Concurrent;
using System.Net;

namespace Petition.Testing;

/// <summary>
/// Signatures arriving steadily on one petition until stopped, each lane posting one at a time; every post
/// must be answered 202. <see cref="Posted"/> is what was accepted, to compare with what was stored.
/// </summary>
public sealed class SteadyLoad
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Signer> _posted = [];
    private readonly Task _lanes;

    private SteadyLoad(PetitionSystem system, Guid petition, int lanes, int repeatEvery, TimeSpan pause) =>
        _lanes = Task.WhenAll(Enumerable.Range(0, lanes).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                var signer = Signer.Unique(i);
                await PostAsync(system, petition, signer);
                _posted.Add(signer);
                if (repeatEvery > 0 && i % repeatEvery == 0) await PostAsync(system, petition, signer.Again());
                if (pause > TimeSpan.Zero) await Task.Delay(pause);
            }
        })));

    /// <summary>The unique signers accepted so far.</summary>
    public IReadOnlyCollection<Signer> Posted => _posted;

    /// <summary>Starts the lanes; <paramref name="repeatEvery"/> &gt; 0 also re-posts every n-th signer, typed differently.</summary>
    public static SteadyLoad Start(PetitionSystem system, Guid petition, int lanes, int repeatEvery = 0, TimeSpan pause = default) =>
        new(system, petition, lanes, repeatEvery, pause);

    /// <summary>Stops the lanes and rethrows any failed post.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _lanes;
        _stop.Dispose();
    }

    private static async Task PostAsync(PetitionSystem system, Guid petition, Signer signer)
    {
        var response = await system.SignAsync(petition, signer);
        if (response.StatusCode != HttpStatusCode.Accepted)
            throw new InvalidOperationException($"A signature was answered {(int)response.StatusCode}, not 202.");
    }
}
