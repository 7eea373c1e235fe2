using Petition.ServiceDefaults;

namespace Petition.Worker;

/// <summary>The worker's host, built in one place for Program and for tests that run it in process.</summary>
public static class WorkerApp
{
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();

        app.UseServiceDefaults();
        app.MapDefaultEndpoints();
        return app;
    }
}
