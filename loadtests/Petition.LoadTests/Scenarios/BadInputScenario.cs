using System.Net.Http.Headers;
using System.Text;
using Petition.LoadTests.Engine;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Verification;

namespace Petition.LoadTests.Scenarios;

/// <summary>Malformed requests: every answer a 4xx problem, nothing stored.</summary>
internal static class BadInputScenario
{
    /// <summary>Malformed bodies at a steady rate: every answer must be a 4xx problem+json, none a 5xx, and nothing stored.</summary>
    public static async Task<ScenarioResult> RunAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        using var frame = new SigningRun(settings, log);
        var petitions = await frame.CreatePetitionsAsync("bad-input", 1, cancellationToken);
        var cases = MalformedBodies();
        long notProblemJson = 0;
        async Task<Reply> Send(long n, CancellationToken token)
        {
            var (_, body, contentType, otherPetition) = cases[(int)(n % cases.Count)];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            var url = new Uri(settings.Intake, $"/api/petitions/{(otherPetition ? Guid.NewGuid() : petitions[0])}/signatures");
            using var response = await frame.Intake.Http.PostAsync(url, content, token);
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") Interlocked.Increment(ref notProblemJson);
            return Reply.Of((int)response.StatusCode);
        }

        var profile = RateProfile.Constant(settings.Rate, settings.Duration);
        var result = await frame.RunAsync("bad-input",
            $"{settings.Rate:N0} malformed requests a second for {settings.Duration.TotalSeconds:F0} s, cycling through {cases.Count} kinds: {string.Join(", ", cases.Select(c => c.Name))}.",
            petitions, Send, _ => new SigningRun.Expected([new Expectation(petitions[0], 0)], [[]], []),
            SigningScenarios.Open(profile, settings, log, cancellationToken), _ => settings.Rate, settings.Rate, null, cancellationToken);

        var findings = result.Verdict.Findings.ToList();
        if (result.Accepted > 0) findings.Add($"{result.Accepted} malformed requests were answered 202");
        if (result.Failed > 0) findings.Add($"{result.Failed} malformed requests got no answer");
        if (notProblemJson > 0) findings.Add($"{notProblemJson} answers were not application/problem+json");
        result.Notes["kinds of malformed request"] = cases.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return result with { Verdict = result.Verdict with { Passed = findings.Count == 0, Findings = findings } };
    }

    private static List<(string Name, byte[] Body, string ContentType, bool OtherPetition)> MalformedBodies()
    {
        const string json = "application/json";
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        var ok = """{"name":"Ana Müller","email":"ana@example.org","country":"DE"}""";
        return
        [
            ("not JSON", U("name=Ana&email=ana@example.org"), json, false),
            ("truncated JSON", U(ok[..20]), json, false),
            ("empty body", [], json, false),
            ("an array", U($"[{ok}]"), json, false),
            ("a number for the name", U("""{"name":42,"email":"ana@example.org","country":"DE"}"""), json, false),
            ("fields missing", U("""{"name":"Ana"}"""), json, false),
            ("nulls", U("""{"name":null,"email":null,"country":null}"""), json, false),
            ("email without @", U("""{"name":"Ana","email":"ana.example.org","country":"DE"}"""), json, false),
            ("unknown country", U("""{"name":"Ana","email":"ana@example.org","country":"QQ"}"""), json, false),
            ("control character in the name", U("""{"name":"Ana\u0007","email":"ana@example.org","country":"DE"}"""), json, false),
            ("name of 10,000 letters", U($$"""{"name":"{{new string('a', 10_000)}}","email":"ana@example.org","country":"DE"}"""), json, false),
            ("body of 64 KB", U($$"""{"name":"Ana","email":"ana@example.org","country":"DE","x":"{{new string('x', 64 * 1024)}}"}"""), json, false),
            ("JSON nested 200 deep", U(new string('[', 200) + new string(']', 200)), json, false),
            ("invalid UTF-8", [.. U("""{"name":"Ana"""), 0xC3, 0x28, .. U(""" ","email":"ana@example.org","country":"DE"}""")], json, false),
            ("lone surrogate", U("""{"name":"\ud800","email":"ana@example.org","country":"DE"}"""), json, false),
            ("text/plain", U(ok), "text/plain", false),
            ("unknown petition", U(ok), json, true),
        ];
    }
}
