using System.Security.Cryptography;
using System.Text;

namespace Petition.Signing;

/// <summary>A 256-bit key for one purpose, derived with HKDF from a configured secret, so one secret can serve several purposes apart.</summary>
internal static class PurposeKey
{
    public static byte[] Derive(string secret, string purpose, string paramName)
    {
        ArgumentNullException.ThrowIfNull(secret, paramName);
        var bytes = Encoding.UTF8.GetBytes(secret);
        if (bytes.Length < 16) throw new ArgumentException("The secret must be at least 16 bytes long.", paramName);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, bytes, 32, info: Encoding.ASCII.GetBytes(purpose));
    }
}
