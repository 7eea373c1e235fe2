using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Petition.Intake.Http;

/// <summary>
/// Reads request bodies so that every way a body can be wrong becomes a 4xx problem, never a 500:
/// wrong media type, too large, not JSON, too deep, or fields of the wrong type (each one named).
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

    /// <summary>
    /// Deserialises the body into <typeparamref name="T"/>. A field of the wrong type is a field error and is read
    /// as missing, so the caller still checks the other fields and answers every error at once.
    /// </summary>
    public static async Task<(T? Value, FieldErrors Errors, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request, long maxBytes, JsonSerializerOptions options, CancellationToken cancellationToken) where T : class
    {
        var (document, problem) = await ReadDocumentAsync(request, maxBytes, cancellationToken);
        if (document is null) return (null, new FieldErrors(), problem);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, new FieldErrors(), Problems.Field("body", "The body must be a JSON object."));
            try
            {
                return (document.RootElement.Deserialize<T>(options), new FieldErrors(), null);
            }
            catch (JsonException e)
            {
                if (WithoutWrongTypes<T>(document.RootElement, options) is ({ } value, var errors)) return (value, errors, null);
                // Not any one field's type: the body as a whole is answered.
                var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
                return (null, new FieldErrors(), Problems.Field(field, $"The field '{field}' has the wrong type."));
            }
        }
    }

    // Each field of T the body has, read on its own as the serializer would: those of the wrong type are the
    // errors, and T is read from the others. Null when no one field is to blame.
    private static (T? Value, FieldErrors Errors) WithoutWrongTypes<T>(JsonElement body, JsonSerializerOptions options) where T : class
    {
        var errors = new FieldErrors();
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var fields = options.GetTypeInfo(typeof(T)).Properties;
        var rest = new ArrayBufferWriter<byte>();
        try
        {
            using (var writer = new Utf8JsonWriter(rest))
            {
                writer.WriteStartObject();
                foreach (var property in body.EnumerateObject())
                {
                    if (fields.FirstOrDefault(f => string.Equals(f.Name, property.Name, comparison)) is { } field && !Reads(property.Value, field.PropertyType, options))
                        errors.Add(field.Name, $"The field '{field.Name}' has the wrong type.");
                    else
                        property.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            return errors.IsEmpty ? (null, errors) : (JsonSerializer.Deserialize<T>(rest.WrittenSpan, options), errors);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // A name that is no valid text (a lone surrogate), say.
            return (null, errors);
        }
    }

    private static bool Reads(JsonElement value, Type type, JsonSerializerOptions options)
    {
        try
        {
            JsonSerializer.Deserialize(value, type, options);
            return true;
        }
        catch (JsonException)
        {
            return false;
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
