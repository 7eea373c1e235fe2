using Dapper;
using Npgsql;

namespace Petition.Pipeline.Tests;

internal static class Database
{
    public static async Task<long> ScalarAsync(string sql, Guid petition)
    {
        await using var connection = TestServers.Connect(PetitionSystem.Database);
        return await connection.ExecuteScalarAsync<long>(sql, new { petition });
    }
}
