using System.Buffers.Binary;

namespace Petition.Signing;

/// <summary>
/// Signature ids are UUIDv7, minted by the intake when it accepts a signature: the id itself says when, so a
/// lookup can refuse an id that was never issued and a token can expire without anything stored.
/// </summary>
public static class SignatureIds
{
    /// <summary>The id's mint time in Unix milliseconds, or null when it is not a UUIDv7 (so never one of ours).</summary>
    /// <remarks>A number, not a DateTimeOffset: 48 bits of milliseconds can name a time past year 9999.</remarks>
    public static long? MintedAtUnixMs(Guid id)
    {
        if (id.Version != 7 || (id.Variant & 0xC) != 0x8) return null;
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
    }
}
