using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Petition.Contracts;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Messaging;
using Petition.Signing;

namespace Petition.Intake.Apis;

internal sealed record SignatureConfirming(Guid SignatureId, string Status);

internal readonly record struct ConfirmationServices(SigningKeys Keys, ConfirmationLimits Limits, IBus Bus, IOptions<MessagingOptions> Messaging, TimeProvider Clock);

/// <summary>
/// A valid token sends a broker message: one signature's confirmations from one address take that signer's kind of
/// allowance (RateLimits: 5 in a row, then 5 a minute), so a script replaying its own link costs a bounded trickle.
/// </summary>
internal sealed class ConfirmationLimits(IOptions<RateLimitOptions> options, [FromKeyedServices(SigningRateLimits.AllowancesKey)] ClientAllowances allowances)
{
    public bool TryTake(Guid signatureId, System.Net.IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!options.Value.Enabled || address is null) return true;
        (var taken, retryAfter) = allowances.TryTake(signatureId, address);
        return taken;
    }
}

internal static partial class SignaturesApi
{
    public const string ConfirmationTokenHeader = "X-Confirmation-Token";

    /// <summary>
    /// The signer confirms, with the token of the mailed link (the confirm page's button POSTs it; a GET of the link
    /// confirms nothing). Checked here at the cost of an HMAC; a valid one goes to the workers' confirmation queue,
    /// durable before the 202, and counts within a second or so. Confirming twice changes nothing.
    /// </summary>
    public static async Task<Results<Accepted<SignatureConfirming>, ProblemHttpResult>> ConfirmAsync(
        Guid signatureId, HttpContext http, [AsParameters] ConfirmationServices services, CancellationToken cancellationToken)
    {
        switch (services.Keys.Confirmation.Check(signatureId, http.Request.Headers[ConfirmationTokenHeader].ToString(), services.Clock.GetUtcNow()))
        {
            case ConfirmationCheck.Forged:
                IntakeMetrics.RecordConfirmation("forged");
                return Problems.Status(StatusCodes.Status403Forbidden, "Confirmation refused.",
                    $"The {ConfirmationTokenHeader} header must hold the token of the link mailed for this signature.");
            case ConfirmationCheck.Expired:
                IntakeMetrics.RecordConfirmation("expired");
                return Problems.Status(StatusCodes.Status410Gone, "Confirmation link expired.",
                    "This link has expired and the signature was not counted. Please sign again.");
        }

        if (!services.Limits.TryTake(signatureId, SigningClient.Of(http).Address, out var retryAfter))
        {
            IntakeMetrics.RecordConfirmation("rate_limited");
            return Problems.RetryLater(http, StatusCodes.Status429TooManyRequests, "Too many confirmations of this signature.",
                "It was confirmed already if any of them was accepted; please wait before pressing again.", retryAfter);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var queue = await services.Bus.GetSendEndpoint(new Uri($"queue:{services.Messaging.Value.ConfirmationQueue}"));
            await queue.Send(new ConfirmSignatures { SignatureIds = [signatureId] }, timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            IntakeMetrics.RecordConfirmation("broker_unavailable");
            return Problems.Unavailable(http, "The confirmation could not be recorded right now; please press the button again in a moment.");
        }

        IntakeMetrics.RecordConfirmation("accepted");
        return TypedResults.Accepted((string?)null, new SignatureConfirming(signatureId, "confirming"));
    }
}
