using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Petition.Intake.Http;
using Petition.Signing;

namespace Petition.Intake.Apis;

/// <summary>One signature of an import: valid, or the errors of its fields. Line is the CSV line.</summary>
internal sealed record ImportedRow(int Row, int? Line, ValidSignature? Signature, FieldErrors? Errors);

/// <summary>
/// Reads signatures from request bodies: one JSON object from a web form, or an import (a JSON array, or CSV).
/// A body that cannot be read at all is a problem; a signature with bad fields gets every field error at once.
/// </summary>
internal static class SignatureBodies
{
    public const long MaxSignatureBytes = 16 * 1024;
    private const long MaxImportBytes = 32 * 1024 * 1024;

    /// <summary>A signature from the JSON object of a form: valid, or the errors of its fields.</summary>
    public static (ValidSignature? Signature, FieldErrors? Errors) Read(JsonElement element)
    {
        var (form, errors) = ReadForm(element);
        return Validate(form, errors);
    }

    /// <summary>The rows of an import, at most <paramref name="maxRows"/>: text/csv, or else a JSON array.</summary>
    public static Task<(List<ImportedRow>? Rows, ProblemHttpResult? Problem)> ReadImportAsync(HttpRequest request, int maxRows, CancellationToken cancellationToken) =>
        request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
            ? ReadCsvRowsAsync(request, maxRows, cancellationToken)
            : ReadJsonRowsAsync(request, maxRows, cancellationToken);

    private static (ValidSignature? Signature, FieldErrors? Errors) Validate(SignatureForm? form, FieldErrors? typeErrors)
    {
        var outcome = form is null ? null : SignatureRules.Validate(form);
        if (typeErrors is null && outcome is { IsValid: true }) return (outcome.Signature, null);
        var errors = typeErrors ?? new FieldErrors();
        if (outcome is not null) errors.Add(outcome.Errors);
        return (null, errors);
    }

    private static async Task<(List<ImportedRow>? Rows, ProblemHttpResult? Problem)> ReadJsonRowsAsync(HttpRequest request, int maxRows, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadDocumentAsync(request, MaxImportBytes, cancellationToken);
        if (document is null) return (null, problem);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                return (null, Problems.Field("body", "The body must be a JSON array of signatures, or text/csv."));
            if (document.RootElement.GetArrayLength() > maxRows)
                return (null, Problems.Field("body", $"An import holds at most {maxRows} rows."));

            var rows = new List<ImportedRow>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                var (signature, errors) = Read(element);
                rows.Add(new ImportedRow(++index, null, signature, errors));
            }

            return (rows, null);
        }
    }

    private static async Task<(List<ImportedRow>? Rows, ProblemHttpResult? Problem)> ReadCsvRowsAsync(HttpRequest request, int maxRows, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.BufferAsync(request, MaxImportBytes, cancellationToken);
        if (body is null) return (null, problem);
        await using (body)
        {
            try
            {
                using var text = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true));
                var index = 0;
                return (SignatureCsv.Read(text, maxRows).Select(r =>
                {
                    var (signature, errors) = Validate(r.Form, null);
                    return new ImportedRow(++index, r.Line, signature, errors);
                }).ToList(), null);
            }
            catch (FormatException e)
            {
                return (null, Problems.Field("body", e.Message));
            }
            catch (DecoderFallbackException)
            {
                return (null, Problems.Field("body", "The CSV file is not valid UTF-8."));
            }
        }
    }

    /// <summary>
    /// Reads the form fields of a JSON object. A field that is not a string (or null) is read as missing
    /// and reported in the errors, which stand over the validation message for that field.
    /// </summary>
    private static (SignatureForm? Form, FieldErrors? Errors) ReadForm(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            return (null, Body("A signature must be a JSON object."));

        FieldErrors? errors = null;
        string? Text(string field)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (!property.Name.Equals(field, StringComparison.OrdinalIgnoreCase)) continue;
                if (property.Value.ValueKind == JsonValueKind.String) return property.Value.GetString();
                if (property.Value.ValueKind == JsonValueKind.Null) return null;
                (errors ??= new()).Add(field, $"The field '{field}' must be a string.");
                return null;
            }

            return null;
        }

        bool Consent()
        {
            foreach (var property in element.EnumerateObject())
            {
                if (!property.Name.Equals("contactConsent", StringComparison.OrdinalIgnoreCase)) continue;
                if (property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False) return property.Value.GetBoolean();
                if (property.Value.ValueKind != JsonValueKind.Null) (errors ??= new()).Add("contactConsent", "The field 'contactConsent' must be true or false.");
            }

            return false;
        }

        try
        {
            return (new SignatureForm(Text("name"), Text("email"), Text("country"), Text("postalCode"), Consent()), errors);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to materialise a lone surrogate ("\ud800") as a .NET string.
            return (null, Body("The body contains invalid text (an unpaired surrogate)."));
        }
    }

    private static FieldErrors Body(string message)
    {
        var errors = new FieldErrors();
        errors.Add("body", message);
        return errors;
    }
}
