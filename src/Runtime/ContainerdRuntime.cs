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
        // A containerd left running by a crashed Bulwark holds the socket and root.
        await LeftoverProcess.StopAsync("containerd", paths.PidFile,
            args => args.Length > 2 && Path.GetFileName(args[0]) == "containerd" && args.Contains(paths.ConfigFile), _logger, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(paths.RunDir, AtomicFile.PrivateDirectory);
        _process = new SupervisedProcess("containerd", new ProcessSpec(containerd, ["--config", paths.ConfigFile])
        {
            // containerd finds runc and the shim on PATH; the CNI plugins come from the config.
            Environment = new Dictionary<string, string?> { ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
        }, paths.LogFile, new SupervisionOptions { StopGrace = TimeSpan.FromSeconds(10), PidFile = paths.PidFile }, _logger);
        var cri = "the socket does not exist yet";
        await _process.StartAsync(new Readiness($"CRI RuntimeReady on {paths.Socket}", async token => (cri = await CriStateAsync(paths.Socket, token).ConfigureAwait(false)) is null, readyTimeout),
            message => new BulwarkException(ErrorKind.Unavailable, $"{message}\nLast CRI state: {cri}"), cancellationToken).ConfigureAwait(false);
        // The socket is created by containerd with its umask; make it exactly 0660 root-owned.
        File.SetUnixFileMode(paths.Socket, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }

    /// <summary>Null when CRI Status says RuntimeReady; otherwise what stands in the way.</summary>
    private static async Task<string?> CriStateAsync(string socket, CancellationToken cancellationToken)
    {
        if (!File.Exists(socket))
        {
            return "the socket does not exist yet";
        }
        using var cri = new CriClient(socket);
        try
        {
            var conditions = await cri.StatusAsync(cancellationToken).ConfigureAwait(false);
            return conditions.Any(c => c.Type == "RuntimeReady" && c.Status)
                ? null
                : "CRI answers but RuntimeReady is false: " + string.Join("; ", conditions.Select(c => $"{c.Type}={c.Status} {c.Reason} {c.Message}".Trim()));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return "containerd answers but the CRI plugin is not loaded (check disabled_plugins and the registry section of config.toml)";
        }
        catch (RpcException e)
        {
            return $"CRI is not answering yet ({e.Status.StatusCode})";
        }
        catch (HttpRequestException e)
        {
            return "CRI is not answering yet: " + e.Message;
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
