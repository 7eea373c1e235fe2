using Npgsql;

namespace Petition.Storage;

/// <summary>
/// The one retry of a transaction PostgreSQL undid for a concurrent one (<see cref="PostgresErrors.IsConflict"/>: a
/// deadlock, a serialisation failure): two changes that met on the same rows in either order. Run again, it
/// succeeds; three attempts, 50 and 100 ms apart.
/// </summary>
internal static class ConflictRetry
{
    public static async Task<T> RunAsync<T>(Func<Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction();
            }
            catch (PostgresException e) when (PostgresErrors.IsConflict(e) && attempt < 3)
            {
                await Task.Delay(50 * attempt, cancellationToken);
            }
        }
    }
}
