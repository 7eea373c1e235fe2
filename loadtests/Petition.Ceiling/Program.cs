using System.Text.Json;

// What this machine's HTTP stack can do at most for a signing request: the same route, the same JSON
// parsed (the fields read as the intake reads them), and a 202 with a status URL; no validation, no
// broker, nothing stored. Every intake figure in the benchmark is divided by this one, measured in the same run.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

app.MapPost("/api/petitions/{petitionId:guid}/signatures", async (Guid petitionId, HttpRequest request, CancellationToken cancellationToken) =>
{
    try
    {
        using var body = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return Results.BadRequest();
        foreach (var field in (string[])["name", "email", "country", "postalCode"])
        {
            if (root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String) _ = value.GetString();
        }
    }
    catch (JsonException)
    {
        return Results.BadRequest();
    }

    var id = Guid.CreateVersion7();
    var statusUrl = $"/api/signatures/{id}";
    return Results.Accepted(statusUrl, new { signatureId = id, status = "pending", statusUrl });
});

app.Run();
