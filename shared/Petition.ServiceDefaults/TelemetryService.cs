using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Petition.ServiceDefaults;

/// <summary>
/// Builds the OpenTelemetry tracer and meter providers (OpenTelemetry.Extensions.Hosting is not available
/// here, so this is its small equivalent) and disposes them, flushing what is buffered, when the host stops.
/// Spans come from the frameworks' own sources (ASP.NET Core, HttpClient, MassTransit, Npgsql) and ours.
/// They are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing leaves the
/// process.
/// </summary>
internal sealed class TelemetryService : IHostedService, IDisposable
{
    private static readonly string[] Sources = ["Microsoft.AspNetCore", "System.Net.Http", "MassTransit", "Npgsql", PetitionTelemetry.Name];
    private static readonly string[] Meters = [PetitionTelemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "MassTransit", "Npgsql"];

    private readonly TracerProvider? _tracing;
    private readonly MeterProvider? _metrics;

    public TelemetryService(IConfiguration configuration, IHostEnvironment environment)
    {
        var endpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint)) return;

        var resource = ResourceBuilder.CreateDefault().AddService(environment.ApplicationName);
        _tracing = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(Sources).AddOtlpExporter().Build();
        _metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(Meters).AddOtlpExporter().Build();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _tracing?.ForceFlush(5_000);
        _metrics?.ForceFlush(5_000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracing?.Dispose();
        _metrics?.Dispose();
    }
}
