using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Petition.Testing;

/// <summary>One span as the dashboard holds it, with the service that sent it.</summary>
public sealed record DashboardSpan(string Service, string Name, string SpanId, string? ParentSpanId);

/// <summary>
/// The Aspire Dashboard that deploy/local/dashboard.sh runs (on the test port test.sh sets), read back through
/// its telemetry API, for the tests that follow a signature's telemetry out of the processes that sent it.
/// </summary>
public sealed class TelemetryDashboard : IDisposable
{
    private readonly HttpClient _api;

    private TelemetryDashboard(Uri ui, string otlpEndpoint)
    {
        Ui = ui;
        OtlpEndpoint = otlpEndpoint;
        _api = new HttpClient { BaseAddress = ui };
    }

    /// <summary>The UI, and the base of the telemetry API.</summary>
    public Uri Ui { get; }

    /// <summary>The OTLP/gRPC endpoint services export to (OTEL_EXPORTER_OTLP_ENDPOINT).</summary>
    public string OtlpEndpoint { get; }

    /// <summary>Starts the dashboard unless it is up already (it stays up, like the servers; test.sh stops it).</summary>
    public static async Task<TelemetryDashboard> StartAsync()
    {
        await TestServers.ScriptAsync("dashboard.sh", "start");
        var ui = new Uri((await TestServers.ScriptAsync("dashboard.sh", "url")).Trim());
        var env = (await TestServers.ScriptAsync("dashboard.sh", "env")).Trim(); // export OTEL_EXPORTER_OTLP_ENDPOINT='…'
        return new TelemetryDashboard(ui, env[(env.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('\''));
    }

    /// <summary>What the telemetry API last answered, for a test's failure message.</summary>
    public string? LastAnswer { get; private set; }

    /// <summary>Every span of one trace the dashboard has received so far (none while it knows no such trace).</summary>
    public async Task<IReadOnlyList<DashboardSpan>> TraceAsync(ActivityTraceId traceId)
    {
        using var response = await _api.GetAsync($"/api/telemetry/traces/{traceId}");
        LastAnswer = $"{(int)response.StatusCode} for trace {traceId}";
        if (!response.IsSuccessStatusCode) return [];
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. from resource in body.GetProperty("data").GetProperty("resourceSpans").EnumerateArray()
                   let service = ServiceName(resource)
                   from scope in resource.GetProperty("scopeSpans").EnumerateArray()
                   from span in scope.GetProperty("spans").EnumerateArray()
                   select new DashboardSpan(service, span.GetProperty("name").GetString()!, span.GetProperty("spanId").GetString()!,
                       span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null)];
    }

    /// <summary>
    /// The settings that make a service export to this dashboard, flushing every 200 ms instead of 5 s so a
    /// test need not wait.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExportSettings => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = OtlpEndpoint,
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
    };

    /// <summary>The services and messages of the log records the dashboard holds for one trace.</summary>
    public async Task<IReadOnlyList<(string Service, string Message)>> LogsAsync(ActivityTraceId traceId)
    {
        var body = await _api.GetFromJsonAsync<JsonElement>($"/api/telemetry/logs?traceId={traceId}&limit=1000");
        return [.. from resource in body.GetProperty("data").GetProperty("resourceLogs").EnumerateArray()
                   let service = ServiceName(resource)
                   from scope in resource.GetProperty("scopeLogs").EnumerateArray()
                   from record in scope.GetProperty("logRecords").EnumerateArray()
                   select (service, record.TryGetProperty("body", out var text) ? text.GetProperty("stringValue").GetString() ?? "" : "")];
    }

    public void Dispose() => _api.Dispose();

    private static string ServiceName(JsonElement resource) =>
        resource.GetProperty("resource").GetProperty("attributes").EnumerateArray()
            .First(a => a.GetProperty("key").GetString() == "service.name").GetProperty("value").GetProperty("stringValue").GetString()!;
}
