using Petition.ServiceDefaults;

namespace Petition.Worker;

/// <summary>The worker's host, built in one place for Program and for tests that run it in process.</summary>
public static class WorkerApp
{
    /// <summary>Builds the worker; <paramref name="configure"/> lets a test add to it (a log capture, say).</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();

        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        return app;
    }
}
