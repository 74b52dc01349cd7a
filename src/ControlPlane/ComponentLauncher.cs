using System.Net.Sockets;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Bulwark.Diagnostics;

namespace Bulwark.ControlPlane;

/// <summary>The runtime bundle: upstream component binaries under &lt;data&gt;/data/&lt;version&gt;/bin.</summary>
public static class RuntimeBundle
{
    public static string BinDirectory(string dataDir, string version) => Path.Combine(dataDir, "data", version, "bin");

    /// <summary>data/current: a symlink to the bundle <c>bulwark runtime install</c> switched to last.</summary>
    public static string CurrentLink(string dataDir) => Path.Combine(dataDir, "data", "current");

    /// <summary>
    /// The bin folder of the active bundle (data/current), else of the newest installed one (by version name, hidden
    /// staging folders excluded), or null when none is installed.
    /// </summary>
    public static string? Find(string dataDir)
    {
        var current = Path.Combine(CurrentLink(dataDir), "bin");
        if (Directory.Exists(current))
        {
            return Path.Combine(Directory.ResolveLinkTarget(CurrentLink(dataDir), returnFinalTarget: true)?.FullName ?? CurrentLink(dataDir), "bin");
        }
        var root = Path.Combine(dataDir, "data");
        return Directory.Exists(root)
            ? Directory.GetDirectories(root).Where(d => !Path.GetFileName(d).StartsWith('.')).Select(d => Path.Combine(d, "bin"))
                .Where(Directory.Exists).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
    }
}

/// <summary>
/// Component binaries are missing from the runtime bundle; the message lists them and the ways forward (an etcd-only
/// node is not one for a control-plane-only server, which runs no etcd).
/// </summary>
public sealed class ComponentBinariesMissingException(IReadOnlyList<string> missing, string binDirectory, bool runsEtcd = true)
    : BulwarkException(ErrorKind.Unavailable,
        $"the runtime bundle at {binDirectory} lacks {string.Join(", ", missing)}. " + (runsEtcd
            ? $"Either install the runtime bundle (the upstream Kubernetes binaries) into {binDirectory}, or run an etcd-only node by setting " +
                "disable-apiserver: true, disable-controller-manager: true and disable-scheduler: true in the config file."
            : $"Install the runtime bundle (the upstream Kubernetes binaries) into {binDirectory} (bulwark runtime install): " +
                "this control-plane-only server (disable-etcd) exists to run them."))
{
    public IReadOnlyList<string> Missing { get; } = missing;
}

/// <summary>A component exited or never became ready while the control plane was starting.</summary>
public sealed class ComponentStartException(string message) : BulwarkException(ErrorKind.Unavailable, message);

/// <summary>
/// Starts the rendered components from the runtime bundle as supervised processes, in dependency order
/// (kube-apiserver, then kube-controller-manager and kube-scheduler, then kubelet and kube-proxy), each gated on
/// readiness (its port accepting connections, or staying up) before the next starts. etcd is run by the Etcd capability.
/// In static-pod mode (<see cref="RenderContext.KubeletRunsStaticPods"/>) only the kubelet is started.
/// </summary>
public sealed class ComponentLauncher(RenderResult render, string binDirectory, ILoggerFactory? loggers = null)
{
    public static readonly IReadOnlyList<string> LaunchOrder = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

    private readonly ILoggerFactory _loggers = loggers ?? NullLoggerFactory.Instance;

    /// <summary>How long each component may take to become ready.</summary>
    public TimeSpan ReadinessTimeout { get; init; } = TimeSpan.FromMinutes(3);

    public SupervisionOptions Supervision { get; init; } = new();

    /// <summary>
    /// The components this node launches, in launch order: every rendered one in process mode; only the kubelet when
    /// the kubelet runs the others from their static pod manifests.
    /// </summary>
    public IReadOnlyList<ComponentArgs> Components => LaunchOrder
        .Where(n => render.Components.ContainsKey(n) && (!render.KubeletRunsStaticPods || n == "kubelet"))
        .Select(n => render.Components[n]).ToList();

    public IReadOnlyList<string> MissingBinaries() =>
        Components.Select(c => c.Spec.Binary).Where(b => !IsExecutable(Path.Combine(binDirectory, b))).ToList();

    /// <summary>
    /// Null when the bundle's kube-apiserver (else the first Kubernetes binary launched) is of the pinned minor
    /// (<see cref="KubernetesContract.PinnedMinor"/>); otherwise why nothing may start: the rendered flags and config
    /// files are v1.32's contract and another minor may reject or misread them.
    /// </summary>
    public async Task<string?> VersionRefusalAsync(CancellationToken cancellationToken)
    {
        if (Components.FirstOrDefault() is not { } first)
        {
            return null;
        }
        var binary = Path.Combine(binDirectory, (Components.FirstOrDefault(c => c.Spec.Name == "kube-apiserver") ?? first).Spec.Binary);
        var result = await ProcessRunner.RunAsync(new ProcessSpec(binary, ["--version"]), cancellationToken).ConfigureAwait(false);
        return KubernetesContract.BuiltIn.CheckVersionOutput(Path.GetFileName(binary), result.StandardOutput + result.StandardError);
    }

    /// <summary>The exact program and argv each component is started with.</summary>
    public ProcessSpec SpecFor(ComponentArgs component) => new(Path.Combine(binDirectory, component.Spec.Binary), component.Argv);

    public async Task<RunningControlPlane> StartAsync(CancellationToken cancellationToken)
    {
        if (MissingBinaries() is { Count: > 0 } missing)
        {
            throw new ComponentBinariesMissingException(missing, binDirectory);
        }
        var running = new RunningControlPlane();
        try
        {
            foreach (var component in Components)
            {
                var name = component.Spec.Name;
                var process = new SupervisedProcess(name, SpecFor(component), Path.Combine(render.Paths.AgentLogs, name + ".log"), Supervision,
                    _loggers.CreateLogger("Bulwark.ControlPlane." + name));
                running.Add(process);
                await process.StartAsync(ReadinessOf(component), message => new ComponentStartException(message), cancellationToken).ConfigureAwait(false);
            }
            return running;
        }
        catch
        {
            await running.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Its port accepting connections, or (a component without one) staying up for five checks in a row.</summary>
    private Readiness ReadinessOf(ComponentArgs component)
    {
        if (component.Spec.Readiness.TcpPortArg is { } arg && component.Get(arg) is { } value)
        {
            var port = StaticPodRenderer.PortOf(value);
            return new Readiness($"accepting connections on 127.0.0.1:{port}", cancellationToken => AcceptsAsync(port, cancellationToken), ReadinessTimeout);
        }
        var checks = 0;
        return new Readiness("staying up", _ => Task.FromResult(++checks >= 5), ReadinessTimeout);
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}

/// <summary>The started components; stopping goes in reverse start order.</summary>
public sealed class RunningControlPlane : IAsyncDisposable
{
    private readonly List<SupervisedProcess> _processes = [];

    public IReadOnlyList<SupervisedProcess> Processes => _processes;

    internal void Add(SupervisedProcess process) => _processes.Add(process);

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync().ConfigureAwait(false);
        }
        _processes.Clear();
    }
}
