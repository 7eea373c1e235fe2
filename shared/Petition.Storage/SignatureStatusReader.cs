using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>
/// What became of an accepted signature, as anyone holding its id may read it. It never tells a new signer from
/// one who had signed before: a signature stored as the signer's and one recorded as a repeat both read
/// <see cref="Received"/>, or whoever signs with another person's email learns whether that person signed.
/// </summary>
public enum SignatureStatus
{
    /// <summary>Accepted, not yet stored by a worker (or an id that was never stored: it reads the same).</summary>
    Pending,

    /// <summary>Stored: counted, or recorded as a repeat of an earlier signature of the same signer.</summary>
    Received,
}

/// <summary>Reads a signature's status (not on the signing path).</summary>
public sealed class SignatureStatusReader(NpgsqlDataSource dataSource)
{
    /// <summary>The status of a signature id; unknown ids read as pending, as the intake does not record them.</summary>
    public async Task<SignatureStatus> GetAsync(Guid signatureId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Both tables are always probed (a sum, not an OR that could stop at the first), so a repeat costs the
        // query what a counted signature does and its answer does not come back sooner or later.
        var found = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT (SELECT count(*) FROM signatures WHERE signature_id = @signatureId)
                 + (SELECT count(*) FROM signature_duplicates WHERE signature_id = @signatureId)
            """, new { signatureId }, cancellationToken: cancellationToken));
        return found > 0 ? SignatureStatus.Received : SignatureStatus.Pending;
    }
}
