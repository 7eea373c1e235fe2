using Microsoft.Win32.SafeHandles;

namespace Petition.Testing;

/// <summary>
/// Who may use the shared test servers, across the test processes of a run: `dotnet test Petition.sln` runs the
/// test assemblies at once, and a test that stops a server must not do it under another process's tests. Every
/// process that uses the servers holds a shared lease for as long as it lives; a process with a test that stops
/// servers holds it exclusively from that test on, so that test starts once every other process is done with
/// the servers, and processes that come later wait for it to end. A process never waits while holding a lease,
/// so none waits for another forever.
/// </summary>
/// <remarks>
/// The leases are .NET's own file locks (FileShare maps to flock(2) on Linux): shared when opened for reading
/// with FileShare.ReadWrite, exclusive with FileShare.None. The kernel drops them when the process ends, however it ends.
/// </remarks>
internal static class ServerLease
{
    private static readonly Lock Gate = new();
    private static SafeFileHandle? _lease;
    private static bool _exclusive;

    /// <summary>Holds the shared lease for the rest of this process; waits while another process holds it exclusively.</summary>
    public static void Share(string file)
    {
        lock (Gate) _lease ??= Open(file, FileShare.ReadWrite);
    }

    /// <summary>Holds the lease exclusively for the rest of this process; waits until no other process holds it.</summary>
    public static void Exclusive(string file)
    {
        lock (Gate)
        {
            if (_exclusive) return;
            // Let go of the shared lease first: this process's own would keep it out.
            _lease?.Dispose();
            _lease = Open(file, FileShare.None);
            _exclusive = true;
        }
    }

    /// <summary>An exclusive lock of its own on <paramref name="file"/> while the returned handle lives.</summary>
    public static IDisposable Alone(string file) => Open(file, FileShare.None);

    private static SafeFileHandle Open(string file, FileShare share)
    {
        while (true)
        {
            try
            {
                // Read only when shared: .NET then always takes the shared lock, whatever the file system says of itself.
                return File.OpenHandle(file, FileMode.OpenOrCreate, share == FileShare.None ? FileAccess.ReadWrite : FileAccess.Read, share);
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                // Held the other way by another process: it lets go when it is done, or when it ends.
                Thread.Sleep(500);
            }
        }
    }
}
