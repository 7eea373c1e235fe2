using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing;

/// <summary>
/// Turns a canonical email into the deduplication key stored in Redis and PostgreSQL: HMAC-SHA256 with a
/// secret from configuration, so neither store holds the email and the key cannot be reversed by guessing.
/// </summary>
public sealed class DedupKeyHasher
{
    private readonly byte[] _secret;

    /// <summary>Creates a hasher; the secret must be at least 16 bytes of UTF-8.</summary>
    public DedupKeyHasher(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _secret = Encoding.UTF8.GetBytes(secret);
        if (_secret.Length < 16)
        {
            throw new ArgumentException("The dedup secret must be at least 16 bytes long.", nameof(secret));
        }
    }

    /// <summary>The 32-byte key for an email (canonicalised here, so callers cannot forget).</summary>
    public byte[] KeyFor(string email) =>
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(CanonicalEmail.Of(email)));
}
