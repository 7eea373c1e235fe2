using Microsoft.AspNetCore.Http.HttpResults;
using Petition.Contracts;
using Petition.Intake.Acceptance;
using Petition.Intake.Http;
using Petition.Intake.Publishing;

namespace Petition.Intake.Apis;

internal static partial class SignaturesApi
{
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
}
