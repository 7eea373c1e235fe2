using MassTransit;
using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Petition.Messaging;

/// <summary>Registers the bus.</summary>
public static class BusExtensions
{
    /// <summary>
    /// MassTransit on RabbitMQ from the connection string "RabbitMq" (amqp://user:password@host:port/vhost),
    /// with publisher confirms and persistent messages, so a completed send means the broker has it on disk.
    /// </summary>
    public static IHostApplicationBuilder AddPetitionBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        var uri = new Uri(configuration.GetConnectionString("RabbitMq")
            ?? throw new InvalidOperationException("ConnectionStrings:RabbitMq is not configured."));
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection("Messaging"))
            .Validate(o => !string.IsNullOrWhiteSpace(o.SignatureQueue) && o.ConfirmTimeout > TimeSpan.Zero,
                "Messaging: SignatureQueue must be set and ConfirmTimeout positive.")
            .ValidateOnStart();
        var clusterNodes = (configuration.GetSection("Messaging").Get<MessagingOptions>()?.ClusterNodes ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // MassTransit's own send, receive and consume spans (they carry the trace across the broker) and metrics.
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(DiagnosticHeaders.DefaultListenerName));
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(InstrumentationOptions.MeterName));
        services.AddMassTransit(bus =>
        {
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var userInfo = uri.UserInfo.Split(':', 2);
                var virtualHost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
                rabbit.Host(uri.Host, (ushort)(uri.IsDefaultPort ? 5672 : uri.Port), virtualHost.Length == 0 ? "/" : virtualHost, host =>
                {
                    host.Username(Uri.UnescapeDataString(userInfo[0]));
                    host.Password(userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : string.Empty);
                    host.PublisherConfirmation = true;
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                    if (clusterNodes.Length > 0) host.UseCluster(cluster => Array.ForEach(clusterNodes, cluster.Node));
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false; // start without the broker; sends answer 503 until it is back
            // On SIGTERM a batch still waiting out a PostgreSQL outage is cancelled after 10 s: its transaction
            // rolls back and its messages, never acked, go back to the queue; the host stops within its 30 s.
            o.ConsumerStopTimeout = TimeSpan.FromSeconds(10);
            o.StopTimeout = TimeSpan.FromSeconds(20);
        });
        return builder;
    }
}
