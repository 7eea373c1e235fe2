using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.ServiceDefaults;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>Creating, listing and closing petitions.</summary>
internal static class PetitionsApi
{
    private const long MaxPetitionBytes = 64 * 1024;

    public sealed record CreatePetition(string? Title, string? Description, long? Target, DateTimeOffset? ClosesAt, string? Confirmation, string? Language);

    public sealed record PetitionView(
        Guid Id, string Title, string Description, long Target, DateTimeOffset? ClosesAt,
        DateTimeOffset? ClosedAt, string Status, DateTimeOffset CreatedAt, string Confirmation, string Language);

    public static IEndpointRouteBuilder MapPetitionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/petitions");
        api.MapGet("/", List);
        api.MapGet("/{petitionId:guid}", Get);
        api.MapPost("/", CreateAsync).RequireAdmin();
        api.MapPost("/{petitionId:guid}/close", CloseAsync).RequireAdmin();
        return app;
    }

    public static Results<Ok<IEnumerable<PetitionView>>, ProblemHttpResult> List(HttpContext http, PetitionCatalog catalog, TimeProvider clock) =>
        !catalog.IsLoaded ? NotLoaded(http) : TypedResults.Ok(catalog.All().Select(p => View(p, clock)));

    public static Results<Ok<PetitionView>, ProblemHttpResult> Get(Guid petitionId, HttpContext http, PetitionCatalog catalog, TimeProvider clock) =>
        !catalog.IsLoaded ? NotLoaded(http)
        : catalog.Find(petitionId) is { } petition ? TypedResults.Ok(View(petition, clock))
        : Problems.PetitionNotFound(petitionId);

    private static ProblemHttpResult NotLoaded(HttpContext http) => Problems.Unavailable(http, "The intake is still loading petitions.");

    public static async Task<Results<Created<PetitionView>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, PetitionRepository repository, PetitionCatalog catalog, IOptions<JsonOptions> json,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var (body, errors, problem) = await JsonBody.ReadAsync<CreatePetition>(request, MaxPetitionBytes, json.Value.SerializerOptions, cancellationToken);
        if (body is null) return problem!;

        var title = body.Title?.Trim();
        if (string.IsNullOrEmpty(title) || title.Length > 200) errors.Add("title", "Title is required, at most 200 characters.");
        else if (!PlainText.Is(title, allowLineBreaks: false)) errors.Add("title", "Title must not contain control characters.");
        var description = body.Description?.Trim() ?? string.Empty;
        if (description.Length > 20_000) errors.Add("description", "Description must be at most 20,000 characters.");
        else if (!PlainText.Is(description, allowLineBreaks: true)) errors.Add("description", "Description must not contain control characters.");
        if (body.Target is not (> 0 and <= 10_000_000_000)) errors.Add("target", "Target is required: a whole number from 1 to 10,000,000,000.");
        if (body.ClosesAt is { } closesAt && closesAt <= clock.GetUtcNow()) errors.Add("closesAt", "closesAt must be in the future.");
        var confirmation = body.Confirmation ?? PetitionConfirmation.Email;
        if (!PetitionConfirmation.IsKnown(confirmation)) errors.Add("confirmation", "confirmation is \"email\" (the default: signers confirm by a mailed link) or \"none\" (the campaign's site verified them).");
        var language = body.Language ?? PetitionLanguages.Default;
        if (!PetitionLanguages.All.Contains(language)) errors.Add("language", $"language is one of {string.Join(", ", PetitionLanguages.All)} (the default: {PetitionLanguages.Default}).");
        if (!errors.IsEmpty) return errors.ToProblem();

        var petition = await repository.CreateAsync(title!, description, body.Target!.Value, body.ClosesAt, confirmation, language, cancellationToken);
        catalog.Put(petition);
        return TypedResults.Created($"/api/petitions/{petition.PetitionId}", View(petition, clock));
    }

    public static async Task<Results<Ok<PetitionView>, ProblemHttpResult>> CloseAsync(
        Guid petitionId, PetitionRepository repository, PetitionCatalog catalog, TimeProvider clock, CancellationToken cancellationToken)
    {
        var petition = await repository.CloseAsync(petitionId, cancellationToken);
        if (petition is null) return Problems.PetitionNotFound(petitionId);
        catalog.Put(petition);
        return TypedResults.Ok(View(petition, clock));
    }

    private static PetitionView View(PetitionRecord p, TimeProvider clock) => new(
        p.PetitionId, p.Title, p.Description, p.Target, p.ClosesAt, p.ClosedAt,
        p.IsClosedAt(clock.GetUtcNow()) ? "closed" : "open", p.CreatedAt, p.Confirmation, p.Language);
}
