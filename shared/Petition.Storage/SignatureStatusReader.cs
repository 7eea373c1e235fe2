using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>What became of an accepted signature.</summary>
public enum SignatureStatus
{
    /// <summary>Accepted, not yet stored by a worker.</summary>
    Pending,

    /// <summary>Stored and included in the petition's totals.</summary>
    Counted,

    /// <summary>The same signer had already signed this petition; not counted again.</summary>
    Duplicate,
}

/// <summary>Reads a signature's status (not on the signing path).</summary>
public sealed class SignatureStatusReader(NpgsqlDataSource dataSource)
{
    /// <summary>The status of a signature id; unknown ids read as pending, as the intake does not record them.</summary>
    public async Task<SignatureStatus> GetAsync(Guid signatureId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var status = await connection.ExecuteScalarAsync<string?>(new CommandDefinition("""
            SELECT CASE
                WHEN EXISTS (SELECT 1 FROM signatures WHERE signature_id = @signatureId) THEN 'counted'
                WHEN EXISTS (SELECT 1 FROM signature_duplicates WHERE signature_id = @signatureId) THEN 'duplicate'
            END
            """, new { signatureId }, cancellationToken: cancellationToken));
        return status switch
        {
            "counted" => SignatureStatus.Counted,
            "duplicate" => SignatureStatus.Duplicate,
            _ => SignatureStatus.Pending,
        };
    }
}
