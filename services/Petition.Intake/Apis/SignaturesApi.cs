using Microsoft.AspNetCore.Http.HttpResults;
using Petition.Contracts;
using Petition.Intake.Acceptance;
using Petition.Intake.Http;
using Petition.Intake.Publishing;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>Signing (here), bulk import (SignaturesApi.Import.cs), and signature status and withdrawal (SignaturesApi.Status.cs).</summary>
internal static partial class SignaturesApi
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
        api.MapPost("/signatures/{signatureId:guid}/confirmation", ConfirmAsync).RequireCors(CorsPolicy);
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
        var (signature, refusal) = services.Acceptance.Accept(valid, petitionId, SignatureSource.Online, client.Address, client.PartnerVouches);
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
        return TypedResults.Accepted(statusUrl, new SignatureAccepted(signature.SignatureId, "pending", statusUrl,
            services.Acceptance.WithdrawalTokenFor(signature), signature.AwaitingConfirmation ? "email" : "none"));
    }

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
