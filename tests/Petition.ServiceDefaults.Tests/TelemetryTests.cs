using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Petition.ServiceDefaults.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Without_an_OTLP_endpoint_only_metrics_are_kept_and_no_span_or_log_is_recorded_for_export()
    {
        await using var app = Build([]);

        Assert.NotNull(app.Services.GetService<MeterProvider>()); // for /metrics
        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<LoggerProvider>());
    }

    [Fact]
    public async Task With_an_OTLP_endpoint_traces_and_logs_are_recorded_too()
    {
        await using var app = Build([$"--{TelemetryExtensions.OtlpEndpointSetting}=http://127.0.0.1:9"]);

        Assert.NotNull(app.Services.GetService<MeterProvider>());
        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<LoggerProvider>());
    }

    [Fact]
    public void A_span_for_many_requests_continues_the_first_traced_ones_trace_and_links_the_others()
    {
        var untraced = Context(ActivityTraceFlags.None);
        var first = Context(ActivityTraceFlags.Recorded);
        var second = Context(ActivityTraceFlags.Recorded);

        var (parent, links) = PetitionTelemetry.ContinueFirst([null, "not a traceparent", TraceParent(untraced), TraceParent(first), TraceParent(second)]);

        Assert.Equal(first.TraceId, parent.TraceId);
        Assert.Equal(first.SpanId, parent.SpanId);
        Assert.Equal([untraced.SpanId, second.SpanId], links.Select(l => l.Context.SpanId));
        Assert.Equal(default, PetitionTelemetry.ContinueFirst([null]).Parent);
        // A caller's "not sampled" is only linked to: the batch's own trace is left to the sampler.
        Assert.Equal(default, PetitionTelemetry.ContinueFirst([TraceParent(untraced)]).Parent);
    }

    private static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults();
        return builder.Build();
    }

    private static ActivityContext Context(ActivityTraceFlags flags) => new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags);

    private static string TraceParent(ActivityContext context) =>
        $"00-{context.TraceId}-{context.SpanId}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
}
