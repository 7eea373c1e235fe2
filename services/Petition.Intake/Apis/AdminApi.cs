using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Petition.Intake.Access;
using Petition.Intake.Http;
using Petition.Intake.Petitions;
using Petition.Intake.Publishing;
using Petition.ServiceDefaults;
using Petition.Signing;
using Petition.Storage;

namespace Petition.Intake.Apis;

/// <summary>
/// Admin only: API keys, the block list, strike-outs, erasure, the audit log and exports. Every change is
/// written to the audit log with the acting key, in the change's own transaction.
/// </summary>
internal static class AdminApi
{
    private const long MaxBodyBytes = 16 * 1024;
    private const int DefaultPartnerPerMinute = 600;

    public sealed record CreateKey(string? Name, string? Scope, int? PerMinute, bool? VouchesForSigners);

    public sealed record KeyView(Guid KeyId, string Name, string Scope, int PerMinute, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt, bool VouchesForSigners);

    /// <summary>The only time the key is shown: it is stored as a hash.</summary>
    public sealed record CreatedKey(Guid KeyId, string Name, string Scope, int PerMinute, string Key, bool VouchesForSigners);

    public sealed record CreateBlock(string? Kind, string? Value, string? Reason);

    /// <summary>An email block shows no value: the email is kept only as its keyed hash.</summary>
    public sealed record BlockView(Guid BlockId, string Kind, string? Value, string Reason, DateTimeOffset CreatedAt, string CreatedBy);

    public sealed record Invalidate(string? AddressRange, string? EmailDomain, DateTimeOffset? From, DateTimeOffset? To);

    public sealed record InvalidationDone(long AuditId, long Invalidated, long Total);

    public sealed record Erase(string? Email);

    public sealed record ErasureDone(long AuditId, long Erased, IReadOnlyList<Guid> Petitions);

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin").RequireAdmin();
        api.MapPost("/keys", CreateKeyAsync);
        api.MapGet("/keys", ListKeysAsync);
        api.MapDelete("/keys/{keyId:guid}", RevokeKeyAsync);
        api.MapPost("/blocks", CreateBlockAsync);
        api.MapGet("/blocks", ListBlocksAsync);
        api.MapDelete("/blocks/{blockId:guid}", DeleteBlockAsync);
        api.MapPost("/petitions/{petitionId:guid}/invalidations", InvalidateAsync);
        api.MapPost("/erasures", EraseAsync);
        api.MapGet("/audit", AuditAsync);
        api.MapGet("/petitions/{petitionId:guid}/signatures.csv", ExportSignatures);
        api.MapGet("/petitions/{petitionId:guid}/contacts.csv", ExportContacts);
        return app;
    }

    public static async Task<Results<Created<CreatedKey>, ProblemHttpResult>> CreateKeyAsync(
        HttpContext http, AccessRepository repository, AccessLists access, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, errors, problem) = await JsonBody.ReadAsync<CreateKey>(http.Request, MaxBodyBytes, json.Value.SerializerOptions, cancellationToken);
        if (body is null) return problem!;
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100 || !PlainText.Is(name)) errors.Add("name", "Name is required: up to 100 characters, no control characters.");
        if (body.Scope is not (IssuedApiKey.AdminScope or IssuedApiKey.PartnerScope)) errors.Add("scope", "Scope must be \"admin\" or \"partner\".");
        if (body.PerMinute is < 1 or > 1_000_000) errors.Add("perMinute", "perMinute must be from 1 to 1,000,000.");
        if (body.VouchesForSigners == true && body.Scope != IssuedApiKey.PartnerScope) errors.Add("vouchesForSigners", "Only a partner key vouches for the signers it sends.");
        if (!errors.IsEmpty) return errors.ToProblem();

        var keyId = Guid.CreateVersion7();
        var (presented, hash) = AccessLists.NewSecret(keyId);
        var record = new ApiKeyRecord(keyId, name!, body.Scope!, hash, body.PerMinute ?? DefaultPartnerPerMinute, DateTimeOffset.UtcNow, IssuedApiKey.ActorOf(http.User), null, body.VouchesForSigners == true);
        await repository.CreateKeyAsync(record, cancellationToken);
        await access.ReloadAfterChangeAsync(cancellationToken);
        return TypedResults.Created($"/api/admin/keys/{keyId}", new CreatedKey(keyId, record.Name, record.Scope, record.PerMinute, presented, record.Vouches));
    }

    public static async Task<Ok<IEnumerable<KeyView>>> ListKeysAsync(AccessRepository repository, CancellationToken cancellationToken) =>
        TypedResults.Ok((await repository.ListKeysAsync(cancellationToken)).Select(k =>
            new KeyView(k.KeyId, k.Name, k.Scope, k.PerMinute, k.CreatedAt, k.CreatedBy, k.RevokedAt, k.Vouches)));

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(
        Guid keyId, HttpContext http, AccessRepository repository, AccessLists access, CancellationToken cancellationToken)
    {
        if (!await repository.RevokeKeyAsync(keyId, IssuedApiKey.ActorOf(http.User), cancellationToken))
            return Problems.Status(StatusCodes.Status404NotFound, "Key not found.", $"There is no live key {keyId}.");
        await access.ReloadAfterChangeAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Created<BlockView>, ProblemHttpResult>> CreateBlockAsync(
        HttpContext http, AccessRepository repository, AccessLists access, SigningKeys keys, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, errors, problem) = await JsonBody.ReadAsync<CreateBlock>(http.Request, MaxBodyBytes, json.Value.SerializerOptions, cancellationToken);
        if (body is null) return problem!;
        var value = body.Value?.Trim() ?? "";
        var reason = body.Reason?.Trim() ?? "";
        if (reason.Length > 500 || !PlainText.Is(reason)) errors.Add("reason", "Reason must be at most 500 characters, no control characters.");
        var block = new BlockRecord(Guid.CreateVersion7(), body.Kind ?? "", null, null, null, reason, DateTimeOffset.UtcNow, IssuedApiKey.ActorOf(http.User));
        switch (body.Kind)
        {
            case "address" when ParseRange(value) is { } range:
                block = block with { Address = range };
                break;
            case "address":
                errors.Add("value", "An address block needs an IP address or a CIDR range, such as 203.0.113.7 or 203.0.113.0/24.");
                break;
            case "email-domain" when ParseDomain(value) is { } domain:
                block = block with { EmailDomain = domain };
                break;
            case "email-domain":
                errors.Add("value", "An email-domain block needs a domain, such as throwaway.example.");
                break;
            case "email" when SignatureRules.IsValidEmail(value):
                block = block with { DedupKey = keys.Dedup.KeyFor(value) };
                break;
            case "email":
                errors.Add("value", "An email block needs a valid email address.");
                break;
            default:
                errors.Add("kind", "Kind must be \"address\", \"email-domain\" or \"email\".");
                break;
        }

        if (!errors.IsEmpty) return errors.ToProblem();
        await repository.CreateBlockAsync(block, cancellationToken);
        await access.ReloadAfterChangeAsync(cancellationToken);
        return TypedResults.Created($"/api/admin/blocks/{block.BlockId}", View(block));
    }

    public static async Task<Ok<IEnumerable<BlockView>>> ListBlocksAsync(AccessRepository repository, CancellationToken cancellationToken) =>
        TypedResults.Ok((await repository.ListBlocksAsync(cancellationToken)).Select(View));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteBlockAsync(
        Guid blockId, HttpContext http, AccessRepository repository, AccessLists access, CancellationToken cancellationToken)
    {
        if (!await repository.DeleteBlockAsync(blockId, IssuedApiKey.ActorOf(http.User), cancellationToken))
            return Problems.Status(StatusCodes.Status404NotFound, "Block not found.", $"There is no block {blockId}.");
        await access.ReloadAfterChangeAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Strikes out a petition's signatures matching every criterion given (at least one); totals are pushed out.</summary>
    public static async Task<Results<Ok<InvalidationDone>, ProblemHttpResult>> InvalidateAsync(
        Guid petitionId, HttpContext http, PetitionCatalog catalog, SignatureAdministration administration, ChangeAnnouncer announcer,
        TotalsReader totals, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        if (catalog.Find(petitionId) is null) return Problems.PetitionNotFound(petitionId);
        var (body, errors, problem) = await JsonBody.ReadAsync<Invalidate>(http.Request, MaxBodyBytes, json.Value.SerializerOptions, cancellationToken);
        if (body is null) return problem!;
        var range = body.AddressRange is null ? null : ParseRange(body.AddressRange);
        if (body.AddressRange is not null && range is null) errors.Add("addressRange", "addressRange must be an IP address or a CIDR range.");
        var domain = body.EmailDomain is null ? null : ParseDomain(body.EmailDomain);
        if (body.EmailDomain is not null && domain is null) errors.Add("emailDomain", "emailDomain must be a domain, such as throwaway.example.");
        if (body.From is { } from && body.To is { } to && from >= to) errors.Add("to", "to must be later than from.");
        // Not when a criterion was given but of the wrong type: its own error says so.
        if (errors.IsEmpty && body is { AddressRange: null, EmailDomain: null, From: null, To: null })
            errors.Add("body", "Give at least one of addressRange, emailDomain, from and to (a whole petition needs from or to).");
        if (!errors.IsEmpty) return errors.ToProblem();

        var outcome = await administration.InvalidateAsync(
            new InvalidationCriteria(petitionId, range, domain, body.From, body.To), IssuedApiKey.ActorOf(http.User), cancellationToken);
        await announcer.AnnounceAsync(outcome, cancellationToken);
        var total = outcome.Totals.SingleOrDefault()?.Total ?? (await totals.ReadAsync(petitionId, cancellationToken))?.Totals.Total ?? 0;
        return TypedResults.Ok(new InvalidationDone(outcome.AuditId, outcome.Affected, total));
    }

    /// <summary>Removes every signature of one email, on every petition (a signer's request to be forgotten).</summary>
    public static async Task<Results<Ok<ErasureDone>, ProblemHttpResult>> EraseAsync(
        HttpContext http, SigningKeys keys, SignatureAdministration administration, ChangeAnnouncer announcer,
        IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var (body, errors, problem) = await JsonBody.ReadAsync<Erase>(http.Request, MaxBodyBytes, json.Value.SerializerOptions, cancellationToken);
        if (body is null) return problem!;
        if (!SignatureRules.IsValidEmail(body.Email))
        {
            errors.Add("email", "A valid email address is required.");
            return errors.ToProblem();
        }

        var outcome = await administration.EraseAsync(keys.Dedup.KeyFor(body.Email), IssuedApiKey.ActorOf(http.User), cancellationToken);
        await announcer.AnnounceAsync(outcome, cancellationToken);
        return TypedResults.Ok(new ErasureDone(outcome.AuditId, outcome.Affected, [.. outcome.Totals.Select(t => t.PetitionId)]));
    }

    public static async Task<Ok<IReadOnlyList<AuditEntry>>> AuditAsync(AdminAudit audit, int? limit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.LatestAsync(Math.Clamp(limit ?? 100, 1, 1000), cancellationToken));

    /// <summary>Every signature of a petition, struck-out ones marked; no email in it.</summary>
    public static IResult ExportSignatures(Guid petitionId, PetitionCatalog catalog, SignatureAdministration administration) =>
        catalog.Find(petitionId) is null ? Problems.PetitionNotFound(petitionId) : Csv($"signatures-{petitionId}.csv", async (writer, cancellationToken) =>
        {
            await writer.WriteAsync(SignatureCsv.Line("signatureId", "name", "country", "postalCode", "source", "signedAt", "status"));
            await foreach (var s in administration.ExportAsync(petitionId, cancellationToken))
            {
                await writer.WriteAsync(SignatureCsv.Line(s.SignatureId.ToString(), s.Name, s.Country, s.PostalCode, s.Source,
                    s.SubmittedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), s.Valid ? "valid" : "invalidated"));
            }
        });

    /// <summary>The signers who agreed to be contacted, with their email: the one place an email is ever shown.</summary>
    public static IResult ExportContacts(Guid petitionId, PetitionCatalog catalog, SignatureAdministration administration, SigningKeys keys) =>
        catalog.Find(petitionId) is null ? Problems.PetitionNotFound(petitionId) : Csv($"contacts-{petitionId}.csv", async (writer, cancellationToken) =>
        {
            await writer.WriteAsync(SignatureCsv.Line("name", "email", "country"));
            await foreach (var s in administration.ExportAsync(petitionId, cancellationToken))
            {
                if (s.ContactEmail is null) continue;
                // A row that does not open (another key, altered data) is marked, not allowed to cut the export short.
                await writer.WriteAsync(SignatureCsv.Line(s.Name, keys.Contact.TryUnprotect(s.ContactEmail, s.SignatureId) ?? "(cannot be decrypted)", s.Country));
            }
        });

    private static IResult Csv(string fileName, Func<StreamWriter, CancellationToken, Task> write) =>
        TypedResults.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 64 * 1024);
            await write(writer, CancellationToken.None);
        }, "text/csv; charset=utf-8", fileName);

    private static System.Net.IPNetwork? ParseRange(string value)
    {
        value = value.Trim();
        if (System.Net.IPNetwork.TryParse(value, out var network))
        {
            // Signer addresses are kept as IPv4, so a range written IPv4-mapped (::ffff:a.b.c.d/n) is made IPv4 too.
            return network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
                ? new System.Net.IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
                : network;
        }

        if (!IPAddress.TryParse(value, out var address)) return null;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
    }

    private static string? ParseDomain(string value)
    {
        var domain = CanonicalEmail.DomainOf(value.TrimStart('@'));
        return domain.Length is > 2 and <= 253 && domain.Contains('.', StringComparison.Ordinal) && !domain.Contains('@', StringComparison.Ordinal)
            && !domain.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? domain : null;
    }

    private static BlockView View(BlockRecord b) =>
        new(b.BlockId, b.Kind, b.Address?.ToString() ?? b.EmailDomain, b.Reason, b.CreatedAt, b.CreatedBy);
}
