using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Petition.LoadTests;

/// <summary>
/// How many live-count clients one counter holds, and how long a new total takes to reach all of them:
/// N streams on one petition; each round posts one signature and times, from its 202, the moment every
/// client has seen the new total.
/// </summary>
internal static class SseScenario
{
    public static async Task<int> RunAsync(Settings settings)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var petition = await CreatePetitionAsync(http, settings);
        Console.WriteLine($"petition {petition}; opening {settings.Clients} streams on {settings.Counter}");

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // bounded, whatever happens
        var clients = Enumerable.Range(0, settings.Clients).Select(_ => new Client()).ToArray();
        var opened = Stopwatch.StartNew();
        var streams = new List<Task>();
        foreach (var chunk in clients.Chunk(500))
        {
            streams.AddRange(chunk.Select(c => c.RunAsync(http, new Uri(settings.Counter, $"/api/petitions/{petition}/count/stream"), stop.Token)));
            await Task.WhenAll(chunk.Select(c => c.Seen(0).WaitAsync(TimeSpan.FromSeconds(60), stop.Token)));
        }

        Console.WriteLine($"{clients.Length} streams open and at 0 after {opened.Elapsed.TotalSeconds:F1} s; counter RSS {CounterRssMb(settings)} MB");

        var everyone = new List<double>();
        var allReached = new List<double>();
        for (var round = 1; round <= settings.Rounds; round++)
        {
            var response = await http.PostAsJsonAsync(new Uri(settings.Intake, $"/api/petitions/{petition}/signatures"),
                new { name = "Load Tester", email = $"sse-{Guid.NewGuid():N}@example.org", country = "GB" }, stop.Token);
            var accepted = Stopwatch.GetTimestamp();
            if ((int)response.StatusCode != 202) throw new InvalidOperationException($"sign answered {(int)response.StatusCode}");
            var reached = await Task.WhenAll(clients.Select(c => c.Seen(round).WaitAsync(TimeSpan.FromSeconds(30), stop.Token)));
            var latencies = reached.Select(t => Stopwatch.GetElapsedTime(accepted, t).TotalMilliseconds).ToList();
            everyone.AddRange(latencies);
            allReached.Add(latencies.Max());
            Console.WriteLine($"round {round}: total {round} reached all {clients.Length} clients in {latencies.Max():F0} ms (p50 {Percentile(latencies, 50):F0} ms)");
            await Task.Delay(500, stop.Token);
        }

        var failed = clients.Count(c => c.Failed);
        Console.WriteLine();
        Console.WriteLine("| clients | rounds | p50 ms | p99 ms | max ms | all reached, worst round ms | counter RSS MB | dropped streams |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine($"| {clients.Length} | {settings.Rounds} | {Percentile(everyone, 50):F0} | {Percentile(everyone, 99):F0} | {everyone.Max():F0} | {allReached.Max():F0} | {CounterRssMb(settings)} | {failed} |");
        await stop.CancelAsync();
        await Task.WhenAll(streams);
        return failed == 0 && Percentile(everyone, 99) < 1_000 ? 0 : 1;
    }

    private static async Task<Guid> CreatePetitionAsync(HttpClient http, Settings settings)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.Intake, "/api/petitions"))
        {
            Content = JsonContent.Create(new { title = "SSE benchmark", description = "Load test.", target = 1_000_000 }),
        };
        request.Headers.Add("X-Api-Key", settings.AdminKey);
        var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    // The counter on this machine, found by its process name (RSS from /proc, Linux only).
    private static string CounterRssMb(Settings settings)
    {
        _ = settings;
        foreach (var process in Process.GetProcessesByName("dotnet"))
        {
            try
            {
                if (File.ReadAllText($"/proc/{process.Id}/cmdline").Contains("Petition.Counter.dll", StringComparison.Ordinal))
                    return (process.WorkingSet64 / 1024 / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        return "?";
    }

    /// <summary>One live client: remembers when it first saw each total.</summary>
    private sealed class Client
    {
        private readonly Dictionary<long, TaskCompletionSource<long>> _seen = [];

        public bool Failed { get; private set; }

        public Task<long> Seen(long total)
        {
            lock (_seen) return Slot(total).Task;
        }

        public async Task RunAsync(HttpClient http, Uri url, CancellationToken cancellationToken)
        {
            try
            {
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                    var total = JsonDocument.Parse(line[6..]).RootElement.GetProperty("total").GetInt64();
                    var now = Stopwatch.GetTimestamp();
                    lock (_seen)
                    {
                        // A coalesced push may skip figures: reaching n means every figure up to n was reached.
                        for (var t = 0L; t <= total; t++) Slot(t).TrySetResult(now);
                    }
                }

                Failed = !cancellationToken.IsCancellationRequested;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                Failed = true;
            }
        }

        private TaskCompletionSource<long> Slot(long total)
        {
            if (!_seen.TryGetValue(total, out var slot)) _seen[total] = slot = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            return slot;
        }
    }
}
