using System.Diagnostics;
using System.Globalization;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Bulwark.Runtime;

/// <summary>
/// The node's containerd: config and registry hosts written, started as a supervised child, ready when CRI Status
/// says RuntimeReady; stopped with SIGTERM and its pod shims cleaned up so a clean stop leaves no orphans.
/// </summary>
public sealed class ContainerdRuntime : IAsyncDisposable
{
    private readonly ContainerdSettings _settings;
    private readonly ILogger _logger;
    private SupervisedProcess? _process;

    private ContainerdRuntime(ContainerdSettings settings, ILogger logger)
    {
        _settings = settings;
        _logger = logger;
    }

    public RuntimePaths Paths => _settings.Paths;
    public ContainerdSettings Settings => _settings;
    public IReadOnlyList<string> Warnings { get; private set; } = [];
    public int? ProcessId => _process?.ProcessId;

    /// <summary>
    /// Reads registries.yaml (a bad file throws before anything is written), writes config.toml and certs.d, and
    /// starts containerd; returns once CRI answers RuntimeReady.
    /// </summary>
    public static async Task<ContainerdRuntime> StartAsync(ContainerdSettings settings, ILogger? logger = null, TimeSpan? readyTimeout = null,
        CancellationToken cancellationToken = default)
    {
        var runtime = new ContainerdRuntime(settings, logger ?? NullLogger.Instance);
        runtime.WriteConfiguration();
        try
        {
            await runtime.LaunchAsync(readyTimeout ?? TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return runtime;
    }

    /// <summary>Writes config.toml (0600: it may hold registry credentials) and certs.d/*/hosts.toml; removes stale hosts files.</summary>
    public void WriteConfiguration()
    {
        var registries = RegistriesFile.Load(_settings.RegistriesPath);
        var rendered = RegistryHosts.Render(registries, _settings.DisableDefaultRegistryEndpoint, _settings.RegistriesPath);
        Warnings = rendered.Warnings;
        foreach (var warning in rendered.Warnings)
        {
            _logger.LogWarning("{Warning}", warning);
        }
        var paths = _settings.Paths;
        foreach (var dir in new[] { paths.AgentDir, paths.ConfigDir, paths.CertsDir, paths.Root, Path.GetDirectoryName(paths.LogFile)! })
        {
            Directory.CreateDirectory(dir, AtomicFile.PrivateDirectory);
        }
        Directory.CreateDirectory(paths.CniConfDir);
        var wanted = rendered.HostsFiles.Select(f => f.Directory).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in Directory.EnumerateDirectories(paths.CertsDir).Where(d => !wanted.Contains(Path.GetFileName(d))))
        {
            Directory.Delete(stale, recursive: true);
        }
        foreach (var file in rendered.HostsFiles)
        {
            var dir = Path.Combine(paths.CertsDir, file.Directory);
            Directory.CreateDirectory(dir, AtomicFile.PrivateDirectory);
            AtomicFile.WriteIfChanged(Path.Combine(dir, "hosts.toml"), file.Content, AtomicFile.Private);
        }
        AtomicFile.WriteIfChanged(paths.ConfigFile, ContainerdConfig.Render(_settings, rendered.Auths), AtomicFile.Private);
    }

    private async Task LaunchAsync(TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        var paths = _settings.Paths;
        var containerd = ProgramLocator.Require("containerd", "Install containerd (apt-get install containerd) or put it in the runtime bundle.");
        StopLeftover();
        Directory.CreateDirectory(paths.RunDir, AtomicFile.PrivateDirectory);
        _process = new SupervisedProcess("containerd", new ProcessSpec(containerd, ["--config", paths.ConfigFile])
        {
            // containerd finds runc and the shim on PATH; the CNI plugins come from the config.
            Environment = new Dictionary<string, string?> { ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
        }, paths.LogFile, new SupervisionOptions { StopGrace = TimeSpan.FromSeconds(10) }, _logger);
        _process.Start();
        if (_process.ProcessId is { } pid)
        {
            AtomicFile.WriteAllText(paths.PidFile, pid.ToString(CultureInfo.InvariantCulture), AtomicFile.Private);
        }
        await WaitReadyAsync(paths.Socket, readyTimeout, () => _process.IsRunning ? null : _process.LogTail(), cancellationToken).ConfigureAwait(false);
        // The socket is created by containerd with its umask; make it exactly 0660 root-owned.
        File.SetUnixFileMode(paths.Socket, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }

    /// <summary>Polls CRI Status until RuntimeReady; fails early with the log tail when the process died.</summary>
    public static async Task WaitReadyAsync(string socket, TimeSpan timeout, Func<string?>? diedWithLog, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        string last = "the socket does not exist yet";
        while (watch.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (diedWithLog?.Invoke() is { } log)
            {
                throw new BulwarkException(ErrorKind.Unavailable, $"containerd exited during start. Last log lines:\n{log}");
            }
            if (File.Exists(socket))
            {
                using var cri = new CriClient(socket);
                try
                {
                    var conditions = await cri.StatusAsync(cancellationToken).ConfigureAwait(false);
                    if (conditions.Any(c => c.Type == "RuntimeReady" && c.Status))
                    {
                        return;
                    }
                    last = "CRI answers but RuntimeReady is false: " + string.Join("; ", conditions.Select(c => $"{c.Type}={c.Status} {c.Reason} {c.Message}".Trim()));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
                {
                    last = "containerd answers but the CRI plugin is not loaded (check disabled_plugins and the registry section of config.toml)";
                }
                catch (RpcException e)
                {
                    last = $"CRI is not answering yet ({e.Status.StatusCode})";
                }
                catch (HttpRequestException e)
                {
                    last = "CRI is not answering yet: " + e.Message;
                }
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        throw new BulwarkException(ErrorKind.Unavailable, $"containerd was not ready within {timeout.TotalSeconds:0} s: {last}");
    }

    /// <summary>A containerd left running by a crashed Bulwark holds the socket and root: stop it by its recorded pid.</summary>
    private void StopLeftover()
    {
        var pidFile = _settings.Paths.PidFile;
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        if (Signals.IsAlive(pid) && IsContainerd(pid))
        {
            _logger.LogWarning("stopping a containerd (pid {Pid}) left running by an earlier Bulwark", pid);
            Signals.Send(pid, Signals.SigTerm);
            for (var i = 0; i < 100 && Signals.IsAlive(pid); i++)
            {
                Thread.Sleep(100);
            }
            if (Signals.IsAlive(pid))
            {
                Signals.Send(pid, Signals.SigKill);
            }
        }
        File.Delete(pidFile);
    }

    private bool IsContainerd(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return cmdline.Length > 2 && Path.GetFileName(cmdline[0]) == "containerd" && cmdline.Contains(_settings.Paths.ConfigFile);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Stops containerd (SIGTERM, then SIGKILL after the grace period), then the shims of its pods: no orphans after a clean stop.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }
        await _process.StopAsync().ConfigureAwait(false);
        await StopShimsAsync(_settings.Paths).ConfigureAwait(false);
        File.Delete(_settings.Paths.PidFile);
    }

    /// <summary>
    /// containerd leaves its shims (and their containers) running when it stops, by design; on a node stop Bulwark ends
    /// them: every containerd-shim whose -address is this node's socket gets SIGTERM, then SIGKILL, and so do the
    /// containers under them (a shim that exits does not take its container with it: it would run on, orphaned).
    /// </summary>
    public static async Task<int> StopShimsAsync(RuntimePaths paths)
    {
        var shims = FindShims(paths.Socket);
        var tree = ProcessTable.WithDescendants(ProcessTable.Read(), shims).Select(p => p.Pid).ToList();
        foreach (var pid in tree)
        {
            Signals.Send(pid, Signals.SigTerm);
        }
        var deadline = Stopwatch.StartNew();
        while (tree.Any(ProcessTable.IsRunning) && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
        foreach (var pid in tree.Where(ProcessTable.IsRunning))
        {
            Signals.Send(pid, Signals.SigKill);
        }
        return shims.Count;
    }

    /// <summary>Pids of containerd-shim processes serving the containerd at this socket.</summary>
    public static IReadOnlyList<int> FindShims(string socket)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (argv.Length > 0 && Path.GetFileName(argv[0]).StartsWith("containerd-shim", StringComparison.Ordinal) &&
                    Array.IndexOf(argv, "-address") is var at && at >= 0 && at + 1 < argv.Length && argv[at + 1] == socket)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
            _process = null;
        }
    }
}
