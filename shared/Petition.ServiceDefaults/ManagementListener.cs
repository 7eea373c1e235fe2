using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Petition.ServiceDefaults;

/// <summary>
/// A listener of its own for /metrics and /health/* (<see cref="UrlSetting"/>, loopback in the shipped
/// settings), so the public one never answers them: a stranger learns nothing from them and cannot make a
/// process run its health checks (a query to each server) as often as it likes. Empty: they answer on
/// every listener (in-process tests, a worker whose only listener is private).
/// </summary>
public static class ManagementListener
{
    /// <summary>The configuration key of the management URL, e.g. http://127.0.0.1:5180.</summary>
    public const string UrlSetting = "Management:Url";

    /// <summary>Marks an endpoint that answers only on the management listener, when there is one.</summary>
    public sealed class Only
    {
        internal static readonly Only Instance = new();

        private Only()
        {
        }
    }

    /// <summary>Adds the management URL to the ones the service listens on (ASPNETCORE_URLS or --urls).</summary>
    internal static void Listen(WebApplicationBuilder builder)
    {
        var url = builder.Configuration[UrlSetting];
        if (string.IsNullOrWhiteSpace(url)) return;
        // Endpoints under Kestrel:Endpoints replace the URL list, so the management URL would never be bound.
        if (builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
            throw new InvalidOperationException($"{UrlSetting} adds to the URLs (ASPNETCORE_URLS, --urls); with Kestrel:Endpoints configured, add the management endpoint there and leave {UrlSetting} empty.");
        var port = BindingAddress.Parse(url).Port;
        if (port <= 0) throw new InvalidOperationException($"{UrlSetting} needs a fixed port, not {url}.");
        var listening = PublicUrls(builder.Configuration);
        if (listening.Any(u => BindingAddress.Parse(u).Port == port))
            throw new InvalidOperationException($"{UrlSetting} ({url}) must have a port none of the public URLs ({string.Join(';', listening)}) has.");
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, string.Join(';', [.. listening, url]));
        builder.Services.AddSingleton(new Port(port));
    }

    private static bool IsManagementPath(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    /// <summary>What Kestrel would listen on without a management URL; setting "urls" replaces all of them.</summary>
    private static string[] PublicUrls(IConfiguration configuration)
    {
        static string[] List(string? value) => value?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var urls = List(configuration[WebHostDefaults.ServerUrlsKey]);
        if (urls.Length > 0) return urls;
        string[] ports = [.. List(configuration[WebHostDefaults.HttpPortsKey]).Select(p => $"http://*:{p}"),
            .. List(configuration[WebHostDefaults.HttpsPortsKey]).Select(p => $"https://*:{p}")];
        return ports.Length > 0 ? ports : ["http://localhost:5000"];
    }

    /// <summary>Answers 404 to a management endpoint asked for on any other port.</summary>
    internal static void Guard(WebApplication app)
    {
        if (app.Services.GetService<Port>() is not { } management) return;
        app.Use((context, next) =>
        {
            // The local port of the connection, not the Host header (which the client writes), decides. The paths
            // too, so that the guard holds even where routing has not run yet (an explicit UseRouting later on).
            if (context.Connection.LocalPort != management.Number
                && (context.GetEndpoint()?.Metadata.GetMetadata<Only>() is not null || IsManagementPath(context.Request.Path)))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
    }

    private sealed record Port(int Number);
}
