using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.Counter.Streaming;
using Petition.ServiceDefaults;

namespace Petition.Counter.Apis;

/// <summary>Live totals: JSON a CDN can cache, and a Server-Sent Events stream.</summary>
public static class CountsApi
{
    public static IEndpointRouteBuilder MapCountsApi(this IEndpointRouteBuilder app)
    {
        var counts = app.MapGroup("/api/petitions/{petitionId:guid}/count").RequireCors(CorsPolicy);
        counts.MapGet("/", Get);
        counts.MapGet("/stream", Stream);
        app.MapPost("/api/counts/reload", Reload).RequireAuthorization(ApiKeyHandler.AdminPolicy);
        return app;
    }

    public const string CorsPolicy = "campaign-sites";

    public static Results<Ok<CountView>, StatusCodeHttpResult, ProblemHttpResult> Get(
        Guid petitionId, HttpContext http, PetitionCounts counts)
    {
        if (counts.Find(petitionId) is not { } count) return Missing(http, counts, petitionId);

        // A CDN (or the browser) may serve this for a second; the version makes a cheap validator.
        var etag = $"\"{count.Version.ToString(CultureInfo.InvariantCulture)}\"";
        var headers = http.Response.Headers;
        headers.CacheControl = "public, max-age=1, stale-while-revalidate=5";
        headers.ETag = etag;
        if (count.LastSignedAt is { } last) headers.LastModified = last.ToString("R", CultureInfo.InvariantCulture);
        return http.Request.Headers.IfNoneMatch.Contains(etag)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(CountView.Of(count));
    }

    public static IResult Stream(
        Guid petitionId, HttpContext http, PetitionCounts counts, CountBroadcaster broadcaster, StreamAdmission admission,
        IOptions<CounterOptions> options, IOptions<JsonOptions> json)
    {
        if (counts.Find(petitionId) is null) return Missing(http, counts, petitionId);
        var (ticket, refusal) = admission.TryEnter(http.Connection.RemoteIpAddress);
        if (ticket is not null) return new CountStreamResult(petitionId, counts, broadcaster, ticket, json.Value.SerializerOptions);

        http.Response.Headers.RetryAfter = ((int)options.Value.StreamRetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        return refusal == StreamAdmission.Refusal.ClientFull
            ? TypedResults.Problem("This address holds as many live counts as it may; poll the count instead.",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live counts.")
            : TypedResults.Problem("This counter holds as many live counts as it can; poll the count instead.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Live counts full.");
    }

    public static Accepted Reload(CountReconciler reconciler)
    {
        reconciler.RequestReload();
        return TypedResults.Accepted((string?)null);
    }

    // Every petition is held (loaded at start, then learnt as created: NewPetitions), so an id not held is answered
    // from memory: random ids never reach PostgreSQL.
    private static ProblemHttpResult Missing(HttpContext http, PetitionCounts counts, Guid petitionId)
    {
        if (counts.IsLoaded)
            return TypedResults.Problem($"There is no petition {petitionId}.", statusCode: StatusCodes.Status404NotFound, title: "Petition not found.");
        http.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem("The counter is still loading totals.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready.");
    }
}
