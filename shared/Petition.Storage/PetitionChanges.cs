using System.Collections.Concurrent;
using Npgsql;

namespace Petition.Storage;

/// <summary>
/// Hears the petitions created or closed by any intake (<see cref="PetitionRepository.ChangeChannel"/>), so a
/// service can hold them all in memory and never ask PostgreSQL on a stranger's request.
/// </summary>
public sealed class PetitionChanges(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Listens on one connection until it fails or <paramref name="cancellationToken"/> ends: <paramref name="listening"/>
    /// runs once the LISTEN holds (load everything there: nothing announced from then on is missed), then
    /// <paramref name="changed"/> for each petition announced, and <paramref name="idle"/> every <paramref name="idleInterval"/>.
    /// </summary>
    public async Task ListenAsync(
        Func<CancellationToken, Task> listening, Func<Guid, CancellationToken, Task> changed,
        TimeSpan idleInterval, Func<CancellationToken, Task>? idle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listening);
        ArgumentNullException.ThrowIfNull(changed);
        var announced = new ConcurrentQueue<Guid>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, e) =>
        {
            if (Guid.TryParse(e.Payload, out var id)) announced.Enqueue(id);
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {PetitionRepository.ChangeChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        await listening(cancellationToken);
        var nextIdle = DateTime.UtcNow + idleInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            await connection.WaitAsync(idleInterval, cancellationToken);
            while (announced.TryDequeue(out var id)) await changed(id, cancellationToken);
            if (idle is not null && DateTime.UtcNow >= nextIdle)
            {
                await idle(cancellationToken);
                nextIdle = DateTime.UtcNow + idleInterval;
            }
        }
    }
}
