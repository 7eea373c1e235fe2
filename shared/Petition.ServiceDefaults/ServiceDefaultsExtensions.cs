using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Petition.ServiceDefaults;

/// <summary>The defaults every Petition service starts from.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Health checks tagged with this take part in /health/ready.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Problem details for every error, camelCase JSON with string enums, health checks.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPetitionTelemetry();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DependencyUnavailableHandler>();
        builder.Services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        builder.Services.AddHealthChecks();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.Configure<KestrelServerOptions>(kestrel => ConfigureLimits(kestrel, builder.Configuration));
        // A spike opens thousands of connections at once. Past the listen backlog (Kestrel's own is 512) the kernel
        // drops the handshake, and the client retries it after 1 s, then 3 s: seconds of silence, measured as
        // tens of thousands of listen overflows before this. The kernel caps it at net.core.somaxconn.
        builder.Services.Configure<SocketTransportOptions>(sockets => sockets.Backlog = builder.Configuration.GetValue("Kestrel:Backlog", 4096));
        if (builder is WebApplicationBuilder web) ManagementListener.Listen(web);
        return builder;
    }

    /// <summary>
    /// Limits for a listener that faces the public: a connection that sends its headers or body slowly
    /// (slowloris) is cut, and a process holds a bounded number of connections. Keep-alive stays Kestrel's 130 s,
    /// above the idle timeouts of the load balancers in front (60 s is common), which must close first.
    /// Each can be changed under "Kestrel:Limits".
    /// </summary>
    private static void ConfigureLimits(KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var limits = kestrel.Limits;
        limits.MaxConcurrentConnections = 20_000;
        limits.MaxConcurrentUpgradedConnections = 20_000;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.MaxRequestHeadersTotalSize = 16 * 1024;
        // Set first, so configuration still has the last word.
        configuration.GetSection("Kestrel:Limits").Bind(limits);
    }

    /// <summary>The JSON conventions of every API: camelCase, string enums in camelCase.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    /// <summary>
    /// Runs the service until it is told to stop. A SIGTERM that arrives while it is still starting (a
    /// rolling deploy, say) cancels the start: that is a clean stop, exit code 0, not an unhandled
    /// exception. Nothing was acked by then; whatever a worker held goes back to the queue.
    /// </summary>
    public static void RunUntilStopped(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            app.Run();
        }
        catch (OperationCanceledException)
        {
            // Only a stop request cancels the start (there is no startup timeout); anything else still throws.
        }
    }

    /// <summary>
    /// Error handling that never leaks a stack trace or answers an empty error, and management endpoints kept to
    /// the management listener.
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        ManagementListener.Guard(app);
        return app;
    }

    /// <summary>
    /// Maps /health/live (the process runs), /health/ready (its dependencies answer; JSON says which failed) and
    /// /metrics (OpenTelemetry's Prometheus exporter), on the management listener when there is one.
    /// </summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint().WithMetadata(ManagementListener.Only.Instance);
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth })
            .WithMetadata(ManagementListener.Only.Instance);
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealth,
        }).WithMetadata(ManagementListener.Only.Instance);
        return endpoints;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
