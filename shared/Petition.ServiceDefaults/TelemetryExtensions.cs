using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Petition.ServiceDefaults;

/// <summary>OpenTelemetry for every service: traces, metrics and logs, exported only where someone listens.</summary>
public static class TelemetryExtensions
{
    /// <summary>The setting (environment variable) that switches OTLP export on.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// The share of requests traced when the caller sent no traced traceparent, unless OTEL_TRACES_SAMPLER says
    /// otherwise. Tracing every signature would cost about a third more CPU per signature and keep a viewer busy
    /// (measured); a caller's traced traceparent is always followed, so an operator can follow any one signature.
    /// </summary>
    public const double DefaultTraceRatio = 0.01;

    /// <summary>Bucket boundaries of every histogram measured in seconds (OpenTelemetry's default ones are for milliseconds).</summary>
    public static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>
    /// Metrics always (scraped at /metrics); traces and logs over OTLP only when <see cref="OtlpEndpointSetting"/> is
    /// set, so without it nothing leaves the process and no span is recorded for nobody. The libraries' own
    /// sources (MassTransit, Npgsql, Redis) are added by the projects that use them, through
    /// ConfigureOpenTelemetryTracerProvider and ConfigureOpenTelemetryMeterProvider.
    /// </summary>
    public static IHostApplicationBuilder AddPetitionTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var exporting = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]);
        // Trace and span ids in every log scope, for the console's JSON lines as for OTLP.
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddMeter(PetitionTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddView(instrument => IsHistogram(instrument) && instrument.Unit == "s" ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets } : null)
                .AddPrometheusExporter());
        if (!exporting) return builder;

        var samplerConfigured = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_TRACES_SAMPLER"]);
        telemetry
            .WithTracing(tracing =>
            {
                if (!samplerConfigured) tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(DefaultTraceRatio)));
                tracing
                    .AddSource(PetitionTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o =>
                    {
                        // Scrapes and probes every few seconds would bury the signatures.
                        o.Filter = http => !IsPlumbing(http.Request.Path);
                        // Not kept: it identifies a signer's browser more than it helps an operator.
                        o.EnrichWithHttpRequest = (activity, _) => activity.SetTag("user_agent.original", null);
                    })
                    .AddHttpClientInstrumentation();
            })
            .WithLogging()
            .UseOtlpExporter();
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeScopes = true;
            o.IncludeFormattedMessage = true;
        });
        return builder;
    }

    private static bool IsHistogram(Instrument instrument) =>
        instrument.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(Histogram<>);

    private static bool IsPlumbing(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
}
