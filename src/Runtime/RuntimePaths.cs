using Bulwark.FileSystem;

namespace Bulwark.Runtime;

/// <summary>
/// Where the node runtime lives (docs/layout.md): config and registry hosts under &lt;data&gt;/agent/etc/containerd,
/// containerd's root under &lt;data&gt;/agent/containerd, its state and socket under /run. A data dir other than the
/// default gets its own run folder (a hash of the data dir), so two Bulwark nodes on one host never share a socket.
/// </summary>
public sealed record RuntimePaths(NodeLayout Layout, string RunDir)
{
    public const string DefaultDataDir = NodeLayout.DefaultDataDir;
    public const string DefaultRunDir = "/run/bulwark/containerd";

    /// <summary>The CRI namespace: images the kubelet sees live here.</summary>
    public const string KubernetesNamespace = "k8s.io";

    public static RuntimePaths For(NodeLayout layout) => new(layout, layout.RunPath(DefaultRunDir));

    public string DataDir => Layout.DataDir;
    public string AgentDir => Layout.AgentDir;
    public string ConfigDir => Path.Combine(Layout.AgentEtcDir, "containerd");
    public string ConfigFile => Path.Combine(ConfigDir, "config.toml");
    public string CertsDir => Path.Combine(ConfigDir, "certs.d");
    public string Root => Path.Combine(AgentDir, "containerd");
    public string State => RunDir;
    public string Socket => Path.Combine(RunDir, "containerd.sock");
    public string Endpoint => "unix://" + Socket;
    public string PidFile => Path.Combine(AgentDir, "containerd.pid");
    public string LogFile => Path.Combine(Layout.AgentLogsDir, "containerd.log");
    public string ImagesDir => Path.Combine(AgentDir, "images");
    public string ImportCacheFile => Path.Combine(AgentDir, "images-imported.json");

    /// <summary>CNI network configurations (the CNI capability writes providers' conflists here).</summary>
    public string CniConfDir => Path.Combine(Layout.AgentEtcDir, "cni", "net.d");

    /// <summary>Pod logs of the node check's pods.</summary>
    public string PodLogDir => Path.Combine(AgentDir, "pod-logs");
}
