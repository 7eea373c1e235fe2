using Petition.Counter.Apis;
using Petition.ServiceDefaults;

namespace Petition.Counter;

/// <summary>The counter's host, built in one place for Program and for tests that run it in process.</summary>
public static class CounterApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();

        app.UseServiceDefaults();
        app.UseTrustedProxies(); // the client address the stream caps go by
        app.UseCors();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapDefaultEndpoints();
        app.MapCountsApi();
        return app;
    }
}
