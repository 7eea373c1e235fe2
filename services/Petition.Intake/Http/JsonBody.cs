using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Petition.Intake.Http;

/// <summary>
/// Reads request bodies so that every way a body can be wrong becomes a 4xx problem, never a 500:
/// wrong media type, too large, not JSON, too deep, or a field of the wrong type.
/// </summary>
internal static class JsonBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses the body as a JSON document of at most <paramref name="maxBytes"/>.</summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadDocumentAsync(
        HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
            return (null, Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.", "Send the body as application/json."));

        LimitBodySize(request, maxBytes);
        try
        {
            return (await JsonDocument.ParseAsync(request.Body, DocumentOptions, cancellationToken), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Field("body", $"The body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})."));
        }
        catch (BadHttpRequestException e)
        {
            return (null, Problems.Status(e.StatusCode, "The request body could not be read.", e.Message));
        }
    }

    /// <summary>Deserialises the body into <typeparamref name="T"/>; a field of the wrong type is a field error.</summary>
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request, long maxBytes, JsonSerializerOptions options, CancellationToken cancellationToken) where T : class
    {
        var (document, problem) = await ReadDocumentAsync(request, maxBytes, cancellationToken);
        if (document is null) return (null, problem);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, Problems.Field("body", "The body must be a JSON object."));
            try
            {
                return (document.RootElement.Deserialize<T>(options), null);
            }
            catch (JsonException e)
            {
                var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
                return (null, Problems.Field(field, $"The field '{field}' has the wrong type."));
            }
        }
    }

    /// <summary>Reads the body into memory, up to <paramref name="maxBytes"/>; null when it was too large.</summary>
    public static async Task<(MemoryStream? Body, ProblemHttpResult? Problem)> BufferAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        LimitBodySize(request, maxBytes);
        var buffer = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
            buffer.Position = 0;
            return (buffer, null);
        }
        catch (BadHttpRequestException e)
        {
            await buffer.DisposeAsync();
            return (null, Problems.Status(e.StatusCode, "The request body could not be read.", e.Message));
        }
    }

    private static void LimitBodySize(HttpRequest request, long maxBytes)
    {
        var feature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = maxBytes;
    }
}
