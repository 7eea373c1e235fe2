using Microsoft.AspNetCore.Http.HttpResults;
using Petition.Intake.Http;
using Petition.Storage;

namespace Petition.Intake.Apis;

internal static partial class SignaturesApi
{
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

    /// <summary>
    /// Pending or received, the same for a repeat as for a first signature (<see cref="SignatureStatus"/>). An id that
    /// was issued but is not stored reads as pending, whoever asks; what a lookup may cost is bounded by <see cref="StatusLookups"/>.
    /// </summary>
    public static async Task<Results<Ok<SignatureStatusView>, ProblemHttpResult>> GetStatusAsync(
        Guid signatureId, HttpContext http, [AsParameters] StatusServices services, CancellationToken cancellationToken)
    {
        switch (services.Lookups.TryEnter(signatureId, SigningClient.Of(http).Address, out var retryAfter))
        {
            case StatusLookupRefusal.NeverIssued:
                IntakeMetrics.RecordStatusLookupRefused("never_issued");
                return Problems.Status(StatusCodes.Status404NotFound, "No such signature.", "This id was never issued for a signature.");
            case StatusLookupRefusal.TooMany:
                IntakeMetrics.RecordStatusLookupRefused("rate_limited");
                return Problems.RetryLater(http, StatusCodes.Status429TooManyRequests, "Too many status lookups from this address.",
                    "Please wait before asking again.", retryAfter);
            case StatusLookupRefusal.Busy:
                IntakeMetrics.RecordStatusLookupRefused("busy");
                return Problems.RetryLater(http, StatusCodes.Status503ServiceUnavailable, "Too many status lookups at once.",
                    "Please retry shortly.", retryAfter);
        }

        try
        {
            return TypedResults.Ok(new SignatureStatusView(signatureId, await services.Reader.GetAsync(signatureId, cancellationToken)));
        }
        finally
        {
            services.Lookups.Exit();
        }
    }
}
