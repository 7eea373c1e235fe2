using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Petition.Counter;
using Petition.Worker;

namespace Petition.Pipeline.Tests;

public sealed class TracingTests
{
    [Fact]
    public async Task Without_an_OTLP_endpoint_no_service_records_spans_or_logs_for_export()
    {
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        string[] args = [.. system.Settings.Select(s => $"--{s.Key}={s.Value}")];
        await using var worker = WorkerApp.Create(args);
        await using var counter = CounterApp.Create(args);

        // Every registration of the real services (bus, storage, Redis) included: none builds a tracer on its own.
        foreach (var services in new[] { system.Intake.Services, worker.Services, counter.Services })
        {
            Assert.Null(services.GetService<TracerProvider>());
            Assert.Null(services.GetService<LoggerProvider>());
            Assert.NotNull(services.GetService<MeterProvider>()); // /metrics
        }
    }

    [Fact]
    public async Task The_trace_of_one_signature_reaches_the_copy_and_commit_of_its_row()
    {
        using var capture = new SpanCapture();
        var spans = capture.Spans;
        await using var system = new PetitionSystem();
        await system.InitializeAsync();
        // The worker in this process, so its spans reach the listener too.
        string[] args = [.. system.Settings.Select(s => $"--{s.Key}={s.Value}"), "--urls=http://127.0.0.1:0"];
        await using var worker = WorkerApp.Create(args);
        await worker.StartAsync();
        await using var counter = CounterApp.Create(args);
        await counter.StartAsync();
        var petition = await system.CreatePetitionAsync();
        // A live client, so the counter has someone to push the new total to, once the counter has loaded its
        // totals (until then its stream answers 503).
        using var live = new HttpClient { BaseAddress = new Uri(counter.Urls.First()) };
        await PetitionSystem.WaitUntilAsync(async () => (await live.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the counter's first load");
        using var stream = new StreamReader(await live.GetStreamAsync($"/api/petitions/{petition}/count/stream"));
        Assert.StartsWith("retry", await stream.ReadLineAsync());

        // The campaign site's own trace: the signature's request continues it.
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/petitions/{petition}/signatures") { Content = JsonContent.Create(Signer.Unique()) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.Accepted, (await system.Client.SendAsync(request)).StatusCode);
        await PetitionSystem.AssertStoredExactlyAsync(petition, 1);
        await PetitionSystem.WaitUntilAsync(() => Task.FromResult(spans.Any(s => s.OperationName == "totals push" && 1L.Equals(s.GetTagItem("petition.version")))),
            TimeSpan.FromSeconds(10), "the counter's push");
        await worker.StopAsync();
        await counter.StopAsync();

        // One trace, the caller's, from the request to the push: the message continues its first request's trace.
        var requestSpan = Assert.Single(spans, s => s.TraceId == traceId && s.OperationName == "Microsoft.AspNetCore.Hosting.HttpRequestIn");
        var send = Assert.Single(spans, s => s.OperationName == "signatures send" && s.ParentSpanId == requestSpan.SpanId);
        Assert.Equal(traceId, send.TraceId);
        var store = Assert.Single(spans, s => s.OperationName == "signatures store" && s.TraceId == traceId);
        Assert.Contains(store.Links, l => l.Context.SpanId == requestSpan.SpanId); // and every request of the batch links to it
        var copy = Assert.Single(spans, s => s.OperationName == "signatures copy" && s.ParentSpanId == store.SpanId);
        var commit = Assert.Single(spans, s => s.OperationName == "signatures commit" && s.ParentSpanId == store.SpanId);
        Assert.Equal(traceId, copy.TraceId);
        Assert.Equal(1, commit.GetTagItem("petition.stored"));
        // And on to the counter: the totals event carries the trace into the apply, and the push continues it.
        var apply = Assert.Single(spans, s => s.OperationName == "totals apply" && s.TraceId == traceId);
        Assert.Single(spans, s => s.OperationName == "totals push" && s.ParentSpanId == apply.SpanId);
    }
}
