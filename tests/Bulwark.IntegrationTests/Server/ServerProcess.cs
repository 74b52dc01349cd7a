using System.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Bulwark.Runtime;

namespace Bulwark.Tests.Server;

/// <summary>
/// The built <c>bulwark</c> binary running <c>server</c> as a child process, its output collected line by line.
/// Dispose stops it (SIGTERM, then SIGKILL) and any etcd it left behind, so a failing test leaks nothing.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly string _pidFile;

    /// <summary>containerd's state folder under /run for this node (one per test data dir).</summary>
    private readonly string _runDirectory;
    private bool _disposed;

    private ServerProcess(Process process, string dataDir)
    {
        _process = process;
        _pidFile = Path.Combine(dataDir, "server", "db", "etcd.pid");
        _runDirectory = RuntimePaths.For(new NodeLayout(dataDir)).RunDir;
    }

    public static string Binary => BulwarkBinary.Path;

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>The etcd child's pid, from the pid file the server writes.</summary>
    public int? EtcdPid => File.Exists(_pidFile) && int.TryParse(File.ReadAllText(_pidFile).Trim(), out var p) ? p : null;

    public static ServerProcess Start(string dataDir, params string[] args) => Start("server", dataDir, inOwnProcessGroup: false, args);

    public static ServerProcess Start(IReadOnlyDictionary<string, string> environment, string dataDir, params string[] args) =>
        Start("server", dataDir, inOwnProcessGroup: false, args, environment);

    /// <summary>
    /// Runs <c>bulwark &lt;command&gt;</c>; with <paramref name="inOwnProcessGroup"/> through <c>setsid</c>, as a service
    /// manager or a shell job does, so the whole group can be signalled (<c>kill -TERM -- -PGID</c>).
    /// </summary>
    public static ServerProcess Start(string command, string dataDir, bool inOwnProcessGroup, params string[] args) =>
        Start(command, dataDir, inOwnProcessGroup, args, new Dictionary<string, string>());

    private static ServerProcess Start(string command, string dataDir, bool inOwnProcessGroup, string[] args, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(inOwnProcessGroup ? "setsid" : Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (inOwnProcessGroup)
        {
            // Not a group leader, so setsid execs env, which execs bulwark in place: same pid, which is now also the
            // process group id. env restores the default SIGINT/SIGQUIT, as systemd or an interactive shell gives them:
            // a suite started as a background job of a script inherits them ignored, and the runtime honours that.
            info.ArgumentList.Add("env");
            info.ArgumentList.Add("--default-signal=INT,QUIT");
            info.ArgumentList.Add(Binary);
        }
        foreach (var a in new[] { command, "--data-dir", dataDir }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        var process = new Process { StartInfo = info };
        var server = new ServerProcess(process, dataDir);
        process.OutputDataReceived += (_, e) => server.Add(e.Data);
        process.ErrorDataReceived += (_, e) => server.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
    }

    /// <summary>Waits for a line containing the text; fails (with the output so far) if the process exits first or after a generous deadline.</summary>
    public async Task WaitForLineAsync(string text)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(2));
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(_process.HasExited, $"bulwark server exited ({(_process.HasExited ? _process.ExitCode : 0)}) before printing '{text}':\n{Output}");
            Assert.False(deadline.IsCancellationRequested, $"bulwark server did not print '{text}':\n{Output}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public void Signal(int signal) => Signals.Send(_process.Id, signal);

    /// <summary><c>kill -SIG -- -PGID</c>: the signal to every process in the group (needs <c>inOwnProcessGroup</c>).</summary>
    public void SignalGroup(int signal) => Assert.True(Signals.Send(-_process.Id, signal), "kill of the process group failed");

    public bool HasExited => _process.HasExited;

    public async Task<int> WaitForExitAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(1));
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"bulwark server did not exit within a minute; its output so far:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Idempotent: a test may stop a server early and still hold it in a <c>finally</c> or <c>await using</c>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        var etcd = EtcdPid;
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, Signals.SigTerm);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        if (etcd is { } pid && Signals.IsAlive(pid) && File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("etcd", StringComparison.Ordinal))
        {
            Signals.Send(pid, Signals.SigKill);
        }
        if (_process.ExitCode == 0)
        {
            RemoveRunDirectory();
        }
        _process.Dispose();
    }

    /// <summary>
    /// After a clean stop (containerd and its shims ended) the node's /run folder is only sockets and empty state:
    /// removed so test runs do not pile them up. Left alone if anything is still mounted under it.
    /// </summary>
    private void RemoveRunDirectory()
    {
        if (_runDirectory == RuntimePaths.DefaultRunDir || !Directory.Exists(_runDirectory)
            || File.ReadLines("/proc/self/mountinfo").Any(line => line.Contains(_runDirectory + "/", StringComparison.Ordinal)))
        {
            return;
        }
        Directory.Delete(_runDirectory, recursive: true);
    }
}
