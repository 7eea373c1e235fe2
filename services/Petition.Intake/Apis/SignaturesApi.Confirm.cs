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

internal readonly record struct ConfirmationServices(SigningKeys Keys, IBus Bus, IOptions<MessagingOptions> Messaging, TimeProvider Clock);

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
