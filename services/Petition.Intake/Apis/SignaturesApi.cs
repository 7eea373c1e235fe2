using Microsoft.AspNetCore.Http.HttpResults;
using Petition.Contracts;
using Petition.Intake.Acceptance;
using Petition.Intake.Http;
using Petition.Intake.Publishing;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>Signing, bulk import and signature status.</summary>
internal static class SignaturesApi
{
    public const string CorsPolicy = "campaign-sites";

    public const string WithdrawalTokenHeader = "X-Withdrawal-Token";

    public static IEndpointRouteBuilder MapSignaturesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/petitions/{petitionId:guid}/signatures", SignAsync).RequireCors(CorsPolicy).AsSigningEndpoint();
        api.MapPost("/petitions/{petitionId:guid}/signatures/batch", ImportAsync).RequireAdmin();
        api.MapGet("/signatures/{signatureId:guid}", GetStatusAsync).RequireCors(CorsPolicy);
        api.MapDelete("/signatures/{signatureId:guid}", WithdrawAsync).RequireCors(CorsPolicy);
        return app;
    }

    /// <summary>One signature from a web form: 202 only once the broker confirmed it.</summary>
    public static async Task<Results<Accepted<SignatureAccepted>, ProblemHttpResult>> SignAsync(
        Guid petitionId, HttpContext http, [AsParameters] SigningServices services, CancellationToken cancellationToken)
    {
        if (services.Acceptance.Gate(petitionId) is not PetitionGate.Open and var gate) return Refused(http, petitionId, gate);
        // Before the body is read: an overloaded intake answers a flood at the least cost. The place itself is taken
        // only once the body is in, so a slow upload never holds one.
        if (!services.Admission.HasRoom(out var retryAfter)) return Overloaded(http, retryAfter);

        var (document, problem) = await JsonBody.ReadDocumentAsync(http.Request, SignatureBodies.MaxSignatureBytes, cancellationToken);
        if (document is null) return Invalid(problem!);
        ValidSignature? valid;
        FieldErrors? errors;
        using (document) (valid, errors) = SignatureBodies.Read(document.RootElement);
        if (valid is null) return Invalid(errors!.ToProblem());

        var client = SigningClient.Of(http);
        var (signature, refusal) = services.Acceptance.Accept(valid, petitionId, SignatureSource.Online, client.Address);
        if (signature is null)
        {
            IntakeMetrics.RecordRejected("blocked");
            return Problems.Status(StatusCodes.Status403Forbidden, "Signature refused.", refusal!);
        }

        if (!services.Admission.TryTake(1, out var admitted, out retryAfter)) return Overloaded(http, retryAfter);
        using var taken = admitted;
        try
        {
            await services.Coalescer.SubmitAsync(signature, cancellationToken);
        }
        catch (BrokerUnavailableException e)
        {
            IntakeMetrics.RecordRejected("broker_unavailable");
            return Problems.Unavailable(http, e.Message + " The signature may not have been recorded; please retry (a repeat is never counted twice).");
        }

        IntakeMetrics.RecordAccepted(SignatureSource.Online, 1);
        var statusUrl = $"/api/signatures/{signature.SignatureId}";
        return TypedResults.Accepted(statusUrl, new SignatureAccepted(signature.SignatureId, "pending", statusUrl, services.Acceptance.WithdrawalTokenFor(signature)));
    }

    /// <summary>Bulk import of offline signatures (JSON array or CSV), all confirmed by the broker before 202.</summary>
    public static async Task<Results<Accepted<ImportReport>, ProblemHttpResult>> ImportAsync(
        Guid petitionId, HttpContext http, [AsParameters] ImportServices services, CancellationToken cancellationToken)
    {
        if (services.Acceptance.Gate(petitionId) is not PetitionGate.Open and var gate) return Refused(http, petitionId, gate);
        if (!services.Admission.HasRoom(out var retryAfter)) return Overloaded(http, retryAfter);

        var (rows, problem) = await SignatureBodies.ReadImportAsync(http.Request, services.Options.Value.MaxImportRows, cancellationToken);
        if (rows is null) return problem!;
        if (rows.Count == 0) return Problems.Field("body", "The import holds no rows.");

        var accepted = new List<AcceptedSignature>(rows.Count);
        var rejected = new List<RejectedRow>();
        foreach (var row in rows)
        {
            var (signature, refusal) = row.Signature is { } valid ? services.Acceptance.Accept(valid, petitionId, SignatureSource.Offline, null) : default;
            if (signature is not null) accepted.Add(signature);
            else rejected.Add(new RejectedRow(row.Row, row.Line, refusal is null ? row.Errors!.ByField : new Dictionary<string, string[]> { ["email"] = [refusal] }));
        }

        if (accepted.Count == 0)
        {
            var none = Problems.Validation(new Dictionary<string, string[]>(), "No row of the import is valid; nothing was accepted.");
            none.ProblemDetails.Extensions["rejected"] = rejected;
            return none;
        }

        try
        {
            await services.Publisher.SendAsync(accepted, cancellationToken);
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
        Guid signatureId, HttpContext http, [AsParameters] WithdrawalServices services, CancellationToken cancellationToken)
    {
        if (!services.Keys.Withdrawal.Verify(signatureId, http.Request.Headers[WithdrawalTokenHeader].ToString()))
            return Problems.Status(StatusCodes.Status403Forbidden, "Withdrawal refused.", $"The {WithdrawalTokenHeader} header must hold the token given when this signature was accepted.");

        var (result, outcome) = await services.Administration.WithdrawAsync(signatureId, cancellationToken);
        if (result == WithdrawalResult.NotStored)
        {
            // Either still in the queue (stored within a second or so) or already withdrawn.
            http.Response.Headers.RetryAfter = "1";
            return Problems.Status(StatusCodes.Status404NotFound, "Signature not stored.",
                "This signature is not stored: it is still on its way (retry in a moment) or was already withdrawn.");
        }

        await services.Announcer.AnnounceAsync(outcome, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<SignatureStatusView>> GetStatusAsync(Guid signatureId, SignatureStatusReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SignatureStatusView(signatureId, await reader.GetAsync(signatureId, cancellationToken)));

    private static ProblemHttpResult Overloaded(HttpContext http, TimeSpan retryAfter)
    {
        IntakeMetrics.RecordRejected("overloaded");
        return Problems.Unavailable(http, "Too many signatures are arriving at once; nothing was recorded. Please retry shortly.", (int)retryAfter.TotalSeconds);
    }

    private static ProblemHttpResult Invalid(ProblemHttpResult problem)
    {
        IntakeMetrics.RecordRejected("invalid");
        return problem;
    }

    private static ProblemHttpResult Refused(HttpContext http, Guid petitionId, PetitionGate gate)
    {
        switch (gate)
        {
            case PetitionGate.NotReady:
                IntakeMetrics.RecordRejected("not_ready");
                return Problems.Unavailable(http, "The intake is still loading petitions, API keys and blocks.");
            case PetitionGate.NotFound:
                IntakeMetrics.RecordRejected("petition_not_found");
                return Problems.PetitionNotFound(petitionId);
            default:
                IntakeMetrics.RecordRejected("petition_closed");
                return Problems.Status(StatusCodes.Status409Conflict, "Petition closed.", $"Petition {petitionId} is closed to new signatures.");
        }
    }
}
