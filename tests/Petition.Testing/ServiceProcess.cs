using System.Collections.Concurrent;
using System.Diagnostics;
using Petition.ServiceDefaults;

namespace Petition.Testing;

/// <summary>A real service process (worker, counter), so tests can kill it like an operator's kill -9 would.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process, Uri? url, Uri? managementUrl)
    {
        _process = process;
        Url = url;
        ManagementUrl = managementUrl ?? url;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Where it listens, when started with a port of its own.</summary>
    public Uri? Url { get; }

    /// <summary>Where /health/* and /metrics answer: a port of its own when listening, as shipped.</summary>
    public Uri? ManagementUrl { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts a service built next to the tests (same configuration), e.g. "Petition.Worker".</summary>
    public static ServiceProcess Start(string project, IReadOnlyDictionary<string, string> settings, bool listen = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        TestServers.EnsureStarted(); // it inherits this process's environment: the servers' settings
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(TestServers.RepoRoot, "services", project, "bin", configuration, "net10.0", project + ".dll");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var url = listen ? new Uri($"http://127.0.0.1:{LoopbackPorts.Free()}") : null;
        start.Environment["ASPNETCORE_URLS"] = url?.ToString() ?? "http://127.0.0.1:0";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        foreach (var (key, value) in settings) start.Environment[Variable(key)] = value;
        Uri? management = null;
        if (listen && string.IsNullOrEmpty(settings.GetValueOrDefault(ManagementListener.UrlSetting)))
        {
            management = new Uri($"http://127.0.0.1:{LoopbackPorts.Free()}");
            start.Environment[Variable(ManagementListener.UrlSetting)] = management.ToString();
        }
        return new ServiceProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {project}."), url, management);
    }

    /// <summary>Waits until /health/ready answers 200.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = ManagementUrl ?? throw new InvalidOperationException("Not listening on a known port.") };
        await PetitionSystem.WaitUntilAsync(async () => !HasExited && (await client.GetAsync("/health/ready")).IsSuccessStatusCode,
            timeout, "the service to become ready", () => Output);
    }

    private static string Variable(string setting) => setting.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Resident memory (MB) and the CPU time used so far (s), as the kernel counts them.</summary>
    public (double RssMb, double CpuSeconds) Usage()
    {
        _process.Refresh();
        return (_process.WorkingSet64 / 1024.0 / 1024.0, _process.TotalProcessorTime.TotalSeconds);
    }

    /// <summary>SIGKILL: no graceful shutdown, no ack, no flush.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>SIGTERM, as an orchestrator stops a service: it should drain and exit by itself.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end by itself (a fault-injection crash); false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }
}
