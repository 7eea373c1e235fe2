using Microsoft.AspNetCore.Http.HttpResults;

namespace Petition.Intake.Http;

/// <summary>Every error the intake answers, as RFC 7807 problem details.</summary>
internal static class Problems
{
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string detail = "One or more fields are invalid.") =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Detail = detail,
        });

    public static ProblemHttpResult Field(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Status(int status, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title);

    public static ProblemHttpResult PetitionNotFound(Guid petitionId) =>
        Status(StatusCodes.Status404NotFound, "Petition not found.", $"There is no petition {petitionId}.");

    /// <summary>503 with Retry-After: the caller may retry safely, repeated signers are deduplicated.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string detail, int retryAfterSeconds = 2) =>
        RetryLater(context, StatusCodes.Status503ServiceUnavailable, "Signatures cannot be accepted right now.", detail, TimeSpan.FromSeconds(retryAfterSeconds));

    /// <summary>A refusal (429, 503) that says when to come back: Retry-After in whole seconds, at least one.</summary>
    public static ProblemHttpResult RetryLater(HttpContext context, int status, string title, string detail, TimeSpan retryAfter)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Status(status, title, detail);
    }
}
