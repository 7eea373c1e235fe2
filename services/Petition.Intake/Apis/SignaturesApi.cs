using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.Intake.Publishing;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>Signing, bulk import and signature status.</summary>
internal static class SignaturesApi
{
    private const long MaxSignatureBytes = 16 * 1024;
    private const long MaxImportBytes = 32 * 1024 * 1024;

    /// <summary>The withdrawal token is the signer's alone: sent back to withdraw (DELETE), never stored.</summary>
    public sealed record SignatureAccepted(Guid SignatureId, string Status, string StatusUrl, string WithdrawalToken);

    public sealed record RejectedRow(int Row, int? Line, IReadOnlyDictionary<string, string[]> Errors);

    public sealed record ImportReport(int Accepted, IReadOnlyList<RejectedRow> Rejected);

    public sealed record SignatureStatusView(Guid SignatureId, SignatureStatus Status);

    public const string CorsPolicy = "campaign-sites";

    public const string WithdrawalTokenHeader = "X-Withdrawal-Token";

    public static IEndpointRouteBuilder MapSignaturesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/petitions/{petitionId:guid}/signatures", SignAsync).RequireCors(CorsPolicy)
            .WithMetadata(new SigningClient.SigningEndpoint());
        api.MapPost("/petitions/{petitionId:guid}/signatures/batch", ImportAsync)
            .RequireAdmin();
        api.MapGet("/signatures/{signatureId:guid}", GetStatusAsync).RequireCors(CorsPolicy);
        api.MapDelete("/signatures/{signatureId:guid}", WithdrawAsync).RequireCors(CorsPolicy);
        return app;
    }

    /// <summary>One signature from a web form: 202 only once the broker confirmed it.</summary>
    public static async Task<Results<Accepted<SignatureAccepted>, ProblemHttpResult>> SignAsync(
        Guid petitionId, HttpContext http, PetitionCatalog catalog, AccessLists access, SigningKeys keys,
        SignatureCoalescer coalescer, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (CheckPetition(http, catalog, access, petitionId, clock) is { } refused) return refused;

        var (document, problem) = await JsonBody.ReadDocumentAsync(http.Request, MaxSignatureBytes, cancellationToken);
        if (document is null)
        {
            IntakeMetrics.RecordRejected("invalid");
            return problem!;
        }

        using (document)
        {
            var (form, typeErrors) = ReadForm(document.RootElement);
            var outcome = form is null ? null : SignatureRules.Validate(form);
            if (typeErrors is not null || outcome is not { IsValid: true })
            {
                IntakeMetrics.RecordRejected("invalid");
                return Problems.Validation(Merge(outcome?.Errors, typeErrors));
            }


            var client = SigningClient.Of(http);
            var signature = Accept(outcome.Signature!, petitionId, SignatureSource.Online, client.Address, keys, clock);
            if (access.Refusal(client.Address, signature.EmailDomain!, signature.DedupKey) is { } blocked)
            {
                IntakeMetrics.RecordRejected("blocked");
                return Problems.Status(StatusCodes.Status403Forbidden, "Signature refused.", blocked);
            }

            try
            {
                await coalescer.SubmitAsync(signature, cancellationToken);
            }
            catch (BrokerUnavailableException e)
            {
                IntakeMetrics.RecordRejected("broker_unavailable");
                return Problems.Unavailable(http, e.Message + " The signature may not have been recorded; please retry (a repeat is never counted twice).");
            }

            IntakeMetrics.RecordAccepted(SignatureSource.Online, 1);
            var statusUrl = $"/api/signatures/{signature.SignatureId}";
            return TypedResults.Accepted(statusUrl, new SignatureAccepted(signature.SignatureId, "pending", statusUrl, keys.Withdrawal.For(signature.SignatureId)));
        }
    }

    /// <summary>Bulk import of offline signatures (JSON array or CSV), all confirmed by the broker before 202.</summary>
    public static async Task<Results<Accepted<ImportReport>, ProblemHttpResult>> ImportAsync(
        Guid petitionId, HttpContext http, PetitionCatalog catalog, AccessLists access, SigningKeys keys, SignaturePublisher publisher,
        IOptions<IntakeOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (CheckPetition(http, catalog, access, petitionId, clock) is { } refused) return refused;

        var maxRows = options.Value.MaxImportRows;
        var (rows, problem) = http.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
            ? await ReadCsvRowsAsync(http.Request, maxRows, cancellationToken)
            : await ReadJsonRowsAsync(http.Request, maxRows, cancellationToken);
        if (rows is null) return problem!;
        if (rows.Count == 0) return Problems.Field("body", "The import holds no rows.");

        var accepted = new List<AcceptedSignature>(rows.Count);
        var rejected = new List<RejectedRow>();
        foreach (var row in rows)
        {
            var outcome = row.Form is null ? null : SignatureRules.Validate(row.Form);
            if (row.TypeErrors is not null || outcome is not { IsValid: true })
            {
                rejected.Add(new RejectedRow(row.Row, row.Line, Merge(outcome?.Errors, row.TypeErrors)));
                continue;
            }

            // Paper signatures have no address; their email and its domain can still be blocked.
            var signature = Accept(outcome.Signature!, petitionId, SignatureSource.Offline, null, keys, clock);
            if (access.Refusal(null, signature.EmailDomain!, signature.DedupKey) is { } blocked)
                rejected.Add(new RejectedRow(row.Row, row.Line, new Dictionary<string, string[]> { ["email"] = [blocked] }));
            else
                accepted.Add(signature);
        }

        if (accepted.Count == 0)
        {
            var none = Problems.Validation(new Dictionary<string, string[]>(), "No row of the import is valid; nothing was accepted.");
            none.ProblemDetails.Extensions["rejected"] = rejected;
            return none;
        }

        try
        {
            await publisher.SendAsync(accepted, cancellationToken);
        }
        catch (BrokerUnavailableException e)
        {
            IntakeMetrics.RecordRejected("broker_unavailable", accepted.Count);
            return Problems.Unavailable(http, e.Message + " Retry the whole import: signers already accepted are deduplicated.");
        }

        IntakeMetrics.RecordAccepted(SignatureSource.Offline, accepted.Count);
        if (rejected.Count > 0) IntakeMetrics.RecordRejected("invalid", rejected.Count);
        return TypedResults.Accepted((string?)null, new ImportReport(accepted.Count, rejected));
    }

    /// <summary>The signer withdraws, with the token they got at signing; the totals drop at once and are pushed out.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> WithdrawAsync(
        Guid signatureId, HttpContext http, SigningKeys keys, SignatureAdministration administration, ChangeAnnouncer announcer, CancellationToken cancellationToken)
    {
        if (!keys.Withdrawal.Verify(signatureId, http.Request.Headers[WithdrawalTokenHeader].ToString()))
            return Problems.Status(StatusCodes.Status403Forbidden, "Withdrawal refused.", $"The {WithdrawalTokenHeader} header must hold the token given when this signature was accepted.");

        var (result, outcome) = await administration.WithdrawAsync(signatureId, cancellationToken);
        if (result == WithdrawalResult.NotStored)
        {
            // Either still in the queue (stored within a second or so) or already withdrawn.
            http.Response.Headers.RetryAfter = "1";
            return Problems.Status(StatusCodes.Status404NotFound, "Signature not stored.",
                "This signature is not stored: it is still on its way (retry in a moment) or was already withdrawn.");
        }

        await announcer.AnnounceAsync(outcome, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<SignatureStatusView>> GetStatusAsync(Guid signatureId, SignatureStatusReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SignatureStatusView(signatureId, await reader.GetAsync(signatureId, cancellationToken)));

    private static ProblemHttpResult? CheckPetition(HttpContext http, PetitionCatalog catalog, AccessLists access, Guid petitionId, TimeProvider clock)
    {
        if (!catalog.IsLoaded || !access.IsLoaded)
        {
            IntakeMetrics.RecordRejected("not_ready");
            return Problems.Unavailable(http, "The intake is still loading petitions, API keys and blocks.");
        }

        var petition = catalog.Find(petitionId);
        if (petition is null)
        {
            IntakeMetrics.RecordRejected("petition_not_found");
            return Problems.PetitionNotFound(petitionId);
        }

        if (!petition.IsClosedAt(clock.GetUtcNow())) return null;
        IntakeMetrics.RecordRejected("petition_closed");
        return Problems.Status(StatusCodes.Status409Conflict, "Petition closed.", $"Petition {petitionId} is closed to new signatures.");
    }

    private static AcceptedSignature Accept(
        ValidSignature valid, Guid petitionId, SignatureSource source, System.Net.IPAddress? address, SigningKeys keys, TimeProvider clock)
    {
        var signatureId = Guid.CreateVersion7();
        return new AcceptedSignature
        {
            SignatureId = signatureId,
            PetitionId = petitionId,
            DedupKey = keys.Dedup.KeyFor(valid.Email),
            ClientAddress = address?.ToString(),
            EmailDomain = valid.EmailDomain,
            // The email itself only for a signer who agreed to be contacted, and then only encrypted.
            ContactEmail = valid.ContactConsent ? keys.Contact.Protect(CanonicalEmail.Of(valid.Email), signatureId) : null,
            Name = valid.Name,
            Country = valid.Country,
            PostalCode = valid.PostalCode,
            Source = source,
            SubmittedAt = clock.GetUtcNow(),
            // Only a traced request's: an untraced one (most, when traces are sampled) would add its id to every
            // signature's message and a link to every batch span, for nothing (measured: a third more CPU).
            TraceParent = Activity.Current is { Recorded: true } request ? request.Id : null,
        };
    }

    private sealed record ParsedRow(int Row, int? Line, SignatureForm? Form, IReadOnlyDictionary<string, string[]>? TypeErrors);

    private static async Task<(List<ParsedRow>? Rows, ProblemHttpResult? Problem)> ReadJsonRowsAsync(HttpRequest request, int maxRows, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadDocumentAsync(request, MaxImportBytes, cancellationToken);
        if (document is null) return (null, problem);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                return (null, Problems.Field("body", "The body must be a JSON array of signatures, or text/csv."));
            if (document.RootElement.GetArrayLength() > maxRows)
                return (null, Problems.Field("body", $"An import holds at most {maxRows} rows."));

            var rows = new List<ParsedRow>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                var (form, errors) = ReadForm(element);
                rows.Add(new ParsedRow(++index, null, form, errors));
            }

            return (rows, null);
        }
    }

    private static async Task<(List<ParsedRow>? Rows, ProblemHttpResult? Problem)> ReadCsvRowsAsync(HttpRequest request, int maxRows, CancellationToken cancellationToken)
    {
        var (body, problem) = await JsonBody.BufferAsync(request, MaxImportBytes, cancellationToken);
        if (body is null) return (null, problem);
        await using (body)
        {
            try
            {
                using var text = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true));
                var index = 0;
                return (SignatureCsv.Read(text, maxRows).Select(r => new ParsedRow(++index, r.Line, r.Form, null)).ToList(), null);
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
    /// and reported in the errors, which override the validation message for that field.
    /// </summary>
    private static (SignatureForm? Form, Dictionary<string, string[]>? Errors) ReadForm(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
            return (null, new Dictionary<string, string[]> { ["body"] = ["A signature must be a JSON object."] });

        Dictionary<string, string[]>? errors = null;
        string? Text(string field)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (!property.Name.Equals(field, StringComparison.OrdinalIgnoreCase)) continue;
                if (property.Value.ValueKind == JsonValueKind.String) return property.Value.GetString();
                if (property.Value.ValueKind == JsonValueKind.Null) return null;
                (errors ??= [])[field] = [$"The field '{field}' must be a string."];
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
                if (property.Value.ValueKind != JsonValueKind.Null) (errors ??= [])["contactConsent"] = ["The field 'contactConsent' must be true or false."];
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
            return (null, new Dictionary<string, string[]> { ["body"] = ["The body contains invalid text (an unpaired surrogate)."] });
        }
    }

    /// <summary>The validation errors, with each field's type error (if any) in place of its validation message.</summary>
    private static Dictionary<string, string[]> Merge(IReadOnlyDictionary<string, string[]>? validation, IReadOnlyDictionary<string, string[]>? typeErrors)
    {
        var merged = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var source in new[] { validation, typeErrors })
        {
            foreach (var (key, value) in source ?? new Dictionary<string, string[]>()) merged[key] = value;
        }

        return merged;
    }
}
