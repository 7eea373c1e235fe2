using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Petition.Signing;

namespace Petition.Intake.Tests;

/// <summary>
/// Thousands of random and malformed bodies at the signing endpoint of a real intake process (Kestrel, so
/// its body-size limit applies). Every answer is a 4xx problem, or a 202 for a mutation that still happens to
/// be a valid signature; never a 5xx. The process stays up, and nothing it accepts fails the signature rules.
/// </summary>
public sealed class FuzzTests(PetitionSystem system) : IClassFixture<PetitionSystem>
{
    private const int Bodies = 3_000;
    private const string Valid = """{"name":"Ada Lovelace","email":"ada@example.org","country":"GB","postalCode":"SW1A 1AA"}""";

    [Fact]
    public async Task Thousands_of_malformed_bodies_get_a_4xx_problem_never_a_5xx_and_nothing_invalid_is_accepted()
    {
        var petition = await system.CreatePetitionAsync();
        var intake = system.StartIntake();
        await intake.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = intake.Url };
        var random = new Random(20261122); // a fixed seed, so a failure can be replayed
        var statuses = new Dictionary<int, int>();

        for (var i = 0; i < Bodies; i++)
        {
            var (body, mediaType) = Next(random, i);
            using var content = new ByteArrayContent(body);
            if (mediaType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            using var response = await client.PostAsync($"/api/petitions/{petition}/signatures", content);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;

            Assert.True(status is 202 or (>= 400 and < 500), $"body #{i} got {status}: {Show(body)}");
            if (status == 202)
                Assert.True(IsValidSignature(body), $"body #{i} was accepted but is no valid signature: {Show(body)}");
            else
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.False(intake.HasExited, "the intake should still run");
        using var management = new HttpClient { BaseAddress = intake.ManagementUrl };
        Assert.True((await management.GetAsync("/health/ready")).IsSuccessStatusCode, "the intake should still be ready");
        // Malformed (400), too large (413) and not JSON (415) all met.
        Assert.True(statuses.ContainsKey(400) && statuses.ContainsKey(413) && statuses.ContainsKey(415), "refusals seen: " + string.Join(", ", statuses));
    }

    private static (byte[] Body, string? MediaType) Next(Random random, int i) => (i % 12) switch
    {
        0 => (RandomBytes(random, random.Next(0, 2_000)), "application/json"),
        1 => (Splice(Valid, "Ada", [0xC3, 0x28]), "application/json"), // invalid UTF-8 inside a string
        2 => (Nested(random.Next(17, 3_000)), "application/json"), // deeper than the 16 levels allowed
        3 => (Utf8(WithField(random, WrongType(random))), "application/json"),
        4 => (Utf8(WithField(random, $"\"Ada\\u{random.Next(0, 32):x4}Lovelace\"")), "application/json"), // control characters
        5 => (Utf8(WithField(random, $"\"{new string('A', random.Next(300, 40_000))}\"")), "application/json"), // too long, or over 16 KB
        6 or 7 => (Mutate(random, Encoding.UTF8.GetBytes(Valid)), "application/json"), // may still be valid
        8 => (Utf8(random.Next(6) switch
        {
            0 => "{}",
            1 => "[]",
            2 => "null",
            3 => "\"Ada\"",
            4 => """{"name":"Ada","name":"Bob","email":"a@b.org","country":"GB"}""",
            _ => """{"nom":"Ada","courriel":"ada@example.org","pays":"FR"}""",
        }), "application/json"),
        9 => (Utf8(WithField(random, random.Next(3) switch { 0 => "\"\\ud800\"", 1 => "\"\\udc00x\"", _ => "\"\\u200B\\u202E\"" })), "application/json"),
        10 => (Utf8(Valid.Replace("ada@", random.Next(2) == 0 ? "a\\u200Bda@" : "ada\\u0000@", StringComparison.Ordinal)), "application/json"),
        _ => (Utf8(Valid), random.Next(3) switch { 0 => "text/plain", 1 => "application/xml", _ => null }), // not JSON at all
    };

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Splice(string json, string at, byte[] bytes)
    {
        var index = json.IndexOf(at, StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(json[..index]), .. bytes, .. Encoding.UTF8.GetBytes(json[index..])];
    }

    private static byte[] Nested(int depth) => Utf8("{\"name\":" + new string('[', depth) + new string(']', depth) + "}");

    private static string WrongType(Random random) => random.Next(5) switch
    {
        0 => "42",
        1 => "true",
        2 => "null",
        3 => "[\"Ada\"]",
        _ => "{\"first\":\"Ada\"}",
    };

    // The valid body with one field's value replaced by raw JSON.
    private static string WithField(Random random, string rawValue)
    {
        var field = new[] { "name", "email", "country", "postalCode" }[random.Next(4)];
        using var valid = JsonDocument.Parse(Valid);
        var parts = valid.RootElement.EnumerateObject().Select(p => $"\"{p.Name}\":{(p.Name == field ? rawValue : p.Value.GetRawText())}");
        return "{" + string.Join(',', parts) + "}";
    }

    private static byte[] Mutate(Random random, byte[] body)
    {
        var bytes = body.ToList();
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(3))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.RemoveAt(at); break;
                default: bytes.Insert(at, (byte)random.Next(256)); break;
            }
        }

        return [.. bytes];
    }

    // What the intake may accept: one JSON object whose string fields pass the signature rules.
    private static bool IsValidSignature(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return false;
            string? Field(string name) => root.TryGetProperty(name, out var value) ? value.GetString() : null;
            return SignatureRules.Validate(new SignatureForm(Field("name"), Field("email"), Field("country"), Field("postalCode"))).IsValid;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return false;
        }
    }

    private static string Show(byte[] body) =>
        body.Length > 200 ? $"{body.Length} bytes starting {Convert.ToHexString(body, 0, 64)}" : Convert.ToHexString(body);
}
