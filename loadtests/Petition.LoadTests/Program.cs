using Petition.LoadTests;

return args.FirstOrDefault() switch
{
    "sse" => await SseScenario.RunAsync(Settings.From(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Petition.LoadTests sse [--clients 10000] [--rounds 10] [--intake URL] [--counter URL] [--admin-key KEY]
          sse   opens N live-count streams on one petition, posts a signature R times, and reports how long each
                new total took to reach every client (from the intake's 202), plus the counter's memory.
        Defaults come from the local run: intake http://127.0.0.1:5080, counter http://127.0.0.1:5082,
        admin key PETITION_ADMIN_KEY from the environment.
        """);
    return 2;
}
