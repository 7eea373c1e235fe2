using System.Net;
using Dapper;
using Npgsql;

namespace Petition.Storage;

/// <summary>An API key as stored: the hash of its secret, never the secret.</summary>
public sealed record ApiKeyRecord(
    Guid KeyId, string Name, string Scope, byte[] SecretHash, int PerMinute,
    DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt, bool Vouches = false);

/// <summary>One entry of the block list: exactly one of address, email domain and email hash is set.</summary>
public sealed record BlockRecord(
    Guid BlockId, string Kind, IPNetwork? Address, string? EmailDomain, byte[]? DedupKey,
    string Reason, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>API keys and the block list in PostgreSQL; every change is written to the admin audit.</summary>
public sealed class AccessRepository(NpgsqlDataSource dataSource)
{
    /// <summary>Every key, revoked ones included (they are kept for the audit trail).</summary>
    public async Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var keys = await connection.QueryAsync<ApiKeyRecord>(new CommandDefinition("""
            SELECT key_id AS KeyId, name, scope, secret_hash AS SecretHash, per_minute AS PerMinute,
                   created_at AS CreatedAt, created_by AS CreatedBy, revoked_at AS RevokedAt, vouches
            FROM api_keys ORDER BY created_at
            """, cancellationToken: cancellationToken));
        return [.. keys];
    }

    /// <summary>Stores a new key (by its secret's hash).</summary>
    public async Task CreateKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await InAuditedTransactionAsync(key.CreatedBy, "key-created", new { key.KeyId, key.Name, key.Scope, key.PerMinute, key.Vouches }, 1, (connection, transaction) =>
            connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO api_keys (key_id, name, scope, secret_hash, per_minute, created_by, vouches)
                VALUES (@KeyId, @Name, @Scope, @SecretHash, @PerMinute, @CreatedBy, @Vouches)
                """, key, transaction, cancellationToken: cancellationToken)), cancellationToken);
    }

    /// <summary>Revokes a key; false when there is no such key or it was already revoked.</summary>
    public Task<bool> RevokeKeyAsync(Guid keyId, string actor, CancellationToken cancellationToken) =>
        ChangeAuditedAsync(actor, "key-revoked", new { KeyId = keyId },
            "UPDATE api_keys SET revoked_at = now() WHERE key_id = @keyId AND revoked_at IS NULL", new { keyId }, cancellationToken);

    /// <summary>The whole block list.</summary>
    public async Task<IReadOnlyList<BlockRecord>> ListBlocksAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT block_id, kind, address, email_domain, dedup_key, reason, created_at, created_by FROM blocks ORDER BY created_at
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var blocks = new List<BlockRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            blocks.Add(new BlockRecord(reader.GetGuid(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<IPNetwork>(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4),
                reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetString(7)));
        }

        return blocks;
    }

    /// <summary>Adds an entry to the block list.</summary>
    public async Task CreateBlockAsync(BlockRecord block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        // The audit names the address or domain; an email block is recorded by kind only.
        var details = new { block.BlockId, block.Kind, Address = block.Address?.ToString(), block.EmailDomain, block.Reason };
        await InAuditedTransactionAsync(block.CreatedBy, "block-created", details, 1, async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO blocks (block_id, kind, address, email_domain, dedup_key, reason, created_by)
                VALUES (@id, @kind, @address, @domain, @key, @reason, @actor)
                """, connection, transaction);
            command.Parameters.AddWithValue("id", block.BlockId);
            command.Parameters.AddWithValue("kind", block.Kind);
            command.Parameters.AddWithValue("address", NpgsqlTypes.NpgsqlDbType.Cidr, block.Address is { } address ? address : DBNull.Value);
            command.Parameters.AddWithValue("domain", (object?)block.EmailDomain ?? DBNull.Value);
            command.Parameters.AddWithValue("key", (object?)block.DedupKey ?? DBNull.Value);
            command.Parameters.AddWithValue("reason", block.Reason);
            command.Parameters.AddWithValue("actor", block.CreatedBy);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Removes an entry from the block list; false when there is no such entry.</summary>
    public Task<bool> DeleteBlockAsync(Guid blockId, string actor, CancellationToken cancellationToken) =>
        ChangeAuditedAsync(actor, "block-removed", new { BlockId = blockId }, "DELETE FROM blocks WHERE block_id = @blockId", new { blockId }, cancellationToken);

    private async Task<bool> ChangeAuditedAsync(string actor, string action, object details, string sql, object parameters, CancellationToken cancellationToken)
    {
        var changed = 0;
        await InAuditedTransactionAsync(actor, action, details, null, async (connection, transaction) =>
            changed = await connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)), cancellationToken);
        return changed > 0;
    }

    // The change and its audit entry commit together; a change that touched nothing is not audited.
    private async Task InAuditedTransactionAsync(
        string actor, string action, object details, int? affected, Func<NpgsqlConnection, NpgsqlTransaction, Task<int>> change, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await change(connection, transaction);
        if (changed == 0) return;
        await AdminAudit.RecordAsync(connection, transaction, actor, action, null, details, affected ?? changed, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
