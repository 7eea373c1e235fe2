using System.Text;
using System.Text.Json;
using Petition.Counter.Counting;

namespace Petition.Counter.Streaming;

/// <summary>One petition's totals as a Server-Sent Event, encoded once however many clients receive it.</summary>
public sealed record CountEvent(long Version, byte[] Bytes)
{
    /// <summary>"id: version / event: count / data: json" with the version as the event id.</summary>
    public static CountEvent Of(PetitionCount count, JsonSerializerOptions json) => new(count.Version,
        Encoding.UTF8.GetBytes($"id: {count.Version}\nevent: count\ndata: {JsonSerializer.Serialize(CountView.Of(count), json)}\n\n"));

    /// <summary>Newer than <paramref name="sent"/>, or a repair of it: the same version with other figures.</summary>
    public bool Supersedes(CountEvent sent)
    {
        ArgumentNullException.ThrowIfNull(sent);
        return Version > sent.Version || (Version == sent.Version && !Bytes.AsSpan().SequenceEqual(sent.Bytes));
    }
}
