using System.Diagnostics;

namespace Bulwark.Tests;

/// <summary>
/// A process that stands in for a component the machine cannot run (kube-apiserver …): /bin/sh under a uniquely named
/// symlink, waiting on stdin (a builtin: no child process), with the given flags in its argv as /proc shows it.
/// </summary>
public sealed class ShellStandIn : IAsyncDisposable
{
    private readonly Process _process;

    private ShellStandIn(Process process, string name) => (_process, Name) = (process, name);

    /// <summary>The program name (the symlink's), as a process scan or `ps -C` sees it.</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>Starts it from a symlink named <paramref name="prefix"/> plus a random suffix in <paramref name="folder"/>.</summary>
    public static ShellStandIn Start(string folder, string prefix, params string[] flags)
    {
        var name = prefix + Guid.NewGuid().ToString("N");
        var link = Path.Combine(folder, name);
        File.CreateSymbolicLink(link, "/bin/sh");
        var start = new ProcessStartInfo(link) { UseShellExecute = false, RedirectStandardInput = true };
        // sh -c 'script' $0 ...: the trailing words become the process's argv as /proc shows it.
        foreach (var arg in (string[])["-c", "read line; exit 0", .. flags])
        {
            start.ArgumentList.Add(arg);
        }
        return new ShellStandIn(Process.Start(start)!, name);
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
