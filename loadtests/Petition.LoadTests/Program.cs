using Petition.LoadTests;
using Petition.LoadTests.Reporting;
using Petition.LoadTests.Scenarios;

if (args.Length == 0 || args[0] is "-h" or "--help") return Usage();
Settings settings;
try
{
    settings = Settings.From(args[1..]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var log = Console.Out;
var token = cancel.Token;
var mailbox = Array.IndexOf(args, "--mailbox") is var m and >= 1 && m + 1 < args.Length ? args[m + 1] : null;
if (args[0] == "bench") return await Bench.RunAsync(settings, log, token, mailbox) ? 0 : 1;
if (args[0] == "confirmations")
{
    if (mailbox is null) return Usage();
    return (await ConfirmationScenario.RunAsync(settings, mailbox, log, token)).Passed ? 0 : 1;
}

Func<Task<ScenarioResult>>? scenario = args[0] switch
{
    "steady" => () => SigningScenarios.SteadyAsync(settings, log, token),
    "spike" => () => SpikeScenario.RunAsync(settings, log, token),
    "duplicates" => () => SigningScenarios.DuplicatesAsync(settings, log, token),
    "petitions" => () => SigningScenarios.PetitionsAsync(settings, log, token),
    "max" => () => SigningScenarios.MaxAsync(settings, log, token),
    "bulk" => () => BulkScenario.RunAsync(settings, log, token),
    "bad-input" => () => BadInputScenario.RunAsync(settings, log, token),
    "sse" => () => SseScenario.RunAsync(settings, log, token),
    "http-ceiling" => () => Ceilings.HttpCeilingAsync(settings, log, token),
    "copy-ceiling" => () => Ceilings.CopyCeilingAsync(settings, log, token),
    _ => null,
};
if (scenario is null) return Usage();
var result = await scenario();
var stem = Report.Write(result, settings.Output);
Console.WriteLine();
Console.WriteLine(Report.Markdown(result));
Console.WriteLine($"Report: {stem}.md, {stem}.json{(result.Timeline.Count > 0 ? $", {stem}.svg" : "")}");
return result.Passed ? 0 : 1;

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Petition.LoadTests <scenario> [options]     (against a running system: deploy/local/up.sh)
          steady       a constant arrival rate on one petition (open model)
          spike        --rate for 15 s, 10x for 30 s, --rate again for --duration
          duplicates   30 % of requests re-sign an earlier signer, half with the email retyped
          petitions    one hot petition (80 %) and 100 cold ones
          max          closed loop: --connections posting back to back for --duration
          bulk         30 imports of 10,000 rows through the batch endpoint
          bad-input    malformed requests: all must be 4xx problem+json, none 5xx, nothing stored
          sse          --clients live-count streams; --rounds signatures timed to reach them all
          http-ceiling the closed loop against the trivial ceiling server (--ceiling URL)
          copy-ceiling PostgreSQL's binary COPY rate into a table like signatures
          confirmations 3,000 signers of an email-confirmation petition: mails/s through Postfix (read from
                       --mailbox, the Maildir, e.g. .data/postfix/mail/inbox), then every link confirmed: confirmations/s
          bench        all of the above, one table with ratios to the ceilings (loadtests/bench.sh)
        options: --rate 2000 --duration 20 --connections 256 --clients 10000 --rounds 10 --out artifacts/loadtests --quiet
                 --intake http://127.0.0.1:5080 --counter http://127.0.0.1:5082 --ceiling URL --queue store-signatures
                 --admin-key (or PETITION_ADMIN_KEY) --postgres (or ConnectionStrings__Postgres)
        Every signing scenario waits for the pipeline to drain, then checks that each 202 is stored, rows equal the
        unique accepted signers and every total equals COUNT(*); it exits 1 otherwise. Targets must be loopback.
        """);
    return 2;
}
