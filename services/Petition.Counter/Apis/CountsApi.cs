using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Counter.Counting;
using Petition.Counter.Streaming;
using Petition.ServiceDefaults;
using Petition.Storage;

namespace Petition.Counter.Apis;

/// <summary>Live totals: JSON a CDN can cache, and a Server-Sent Events stream.</summary>
public static class CountsApi
{
    public static IEndpointRouteBuilder MapCountsApi(this IEndpointRouteBuilder app)
    {
        var counts = app.MapGroup("/api/petitions/{petitionId:guid}/count").RequireCors(CorsPolicy);
        counts.MapGet("/", GetAsync);
        counts.MapGet("/stream", StreamAsync);
        app.MapPost("/api/counts/reload", Reload).RequireAuthorization(ApiKeyHandler.AdminPolicy);
        return app;
    }

    public const string CorsPolicy = "campaign-sites";

    public static async Task<Results<Ok<CountView>, StatusCodeHttpResult, ProblemHttpResult>> GetAsync(
        Guid petitionId, HttpContext http, PetitionCounts counts, TotalsReader reader, CountUpdater updater, CancellationToken cancellationToken)
    {
        if (await FindAsync(petitionId, counts, reader, updater, cancellationToken) is not { } count) return Missing(http, counts, petitionId);

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

    public static async Task<IResult> StreamAsync(
        Guid petitionId, HttpContext http, PetitionCounts counts, TotalsReader reader, CountUpdater updater,
        CountBroadcaster broadcaster, IOptions<JsonOptions> json, CancellationToken cancellationToken) =>
        await FindAsync(petitionId, counts, reader, updater, cancellationToken) is { } count
            ? new CountStreamResult(count, broadcaster, json.Value.SerializerOptions)
            : Missing(http, counts, petitionId);

    public static Accepted Reload(CountReconciler reconciler)
    {
        reconciler.RequestReload();
        return TypedResults.Accepted((string?)null);
    }

    // A petition created since the last load is read from PostgreSQL on first request.
    private static async Task<PetitionCount?> FindAsync(Guid petitionId, PetitionCounts counts, TotalsReader reader, CountUpdater updater, CancellationToken cancellationToken)
    {
        if (counts.Find(petitionId) is { } held) return held;
        if (!counts.IsLoaded || await reader.ReadAsync(petitionId, cancellationToken) is not { } committed) return null;
        await updater.ApplyAsync(PetitionCount.Of(committed), cancellationToken);
        return counts.Find(petitionId);
    }

    private static ProblemHttpResult Missing(HttpContext http, PetitionCounts counts, Guid petitionId)
    {
        if (counts.IsLoaded)
            return TypedResults.Problem($"There is no petition {petitionId}.", statusCode: StatusCodes.Status404NotFound, title: "Petition not found.");
        http.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem("The counter is still loading totals.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready.");
    }
}
