using System.Globalization;

namespace Petition.LoadTests.Measuring;

/// <summary>Messages in the signature queue, from RabbitMQ's own Prometheus exporter (rabbitmq_prometheus).</summary>
internal sealed class QueueDepth(HttpClient http, Uri metrics, string queue)
{
    private readonly string _series = $"rabbitmq_detailed_queue_messages{{vhost=\"/\",queue=\"{queue}\"}} ";

    /// <summary>Ready plus unacked messages (each holds up to 500 signatures); null when the exporter does not answer.</summary>
    public async Task<long?> ReadAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            var text = await http.GetStringAsync(metrics, timeout.Token);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith(_series, StringComparison.Ordinal))
                    return (long)double.Parse(line.AsSpan(_series.Length), CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or FormatException)
        {
        }

        return null;
    }
}
