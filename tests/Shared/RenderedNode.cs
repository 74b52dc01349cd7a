using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Tests;

/// <summary>
/// A server node as Bulwark itself writes it, for audit and report tests: the real config loader, the real PKI
/// (ServerPki) and the real control-plane renderer under --profile cis-1.23, into a scratch data dir on this host,
/// and optionally a real etcd member started from the config the server writes (the audit reads its
/// /proc/PID/cmdline; processes are matched by this node's data dir, so other etcds on the machine do not count).
/// Audit it with --host-root / --data-dir <see cref="DataDir"/> --etc-dir <see cref="EtcDir"/>.
/// </summary>
public sealed class RenderedNode : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private EtcdMember? _etcd;

    private RenderedNode(TempDirectory dir, EffectiveConfig config, string etcDir) => (_dir, Config, EtcDir) = (dir, config, etcDir);

    public EffectiveConfig Config { get; }

    public string DataDir => Config.DataDir;

    public string EtcDir { get; }

    /// <summary>The scratch folder holding the node (etc/config.yaml, data/); other files may go beside them.</summary>
    public TempDirectory Scratch => _dir;

    /// <summary>A file of the node's data dir, e.g. "agent/pod-manifests/kube-apiserver.yaml".</summary>
    public string Data(string relative) => Path.Combine(DataDir, relative);

    /// <summary>The CLI arguments that point `bulwark audit` at this node.</summary>
    public string[] AuditArgs => ["--data-dir", DataDir, "--etc-dir", EtcDir];

    public static async Task<RenderedNode> CreateAsync(bool startEtcd, string extraYaml = "", CancellationToken cancellationToken = default)
    {
        var dir = new TempDirectory("bulwark-rendered");
        try
        {
            // Like /var/lib on a host: the etcd account may pass through the folder above the data dir.
            File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("711", 8));
            var ports = FreePorts.Take(3);
            var configFile = dir.Write("etc/config.yaml", $"data-dir: {dir.Combine("data")}\nprofile: cis-1.23\nnode-ip: 127.0.0.1\nsingle-host-demo: true\n" +
                $"etcd-client-port: {ports[0]}\netcd-peer-port: {ports[1]}\netcd-metrics-port: {ports[2]}\n{extraYaml}");
            // The operator's config file, 0600 as the RKE2 STIG (V-254564) requires of it.
            File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var load = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, configFile, new Dictionary<string, string>(), []));
            var config = load.Config ?? throw new InvalidOperationException(string.Join("\n", load.Errors));
            new ServerPki(CryptoStartup.Start(config).Service).Ensure(config);
            var etcDir = ControlPlaneRenderer.EtcDirectory(config);
            await new ControlPlaneRenderer().RenderAsync(config, etcDir, cancellationToken);
            var node = new RenderedNode(dir, config, etcDir);
            if (startEtcd)
            {
                // etcd as the server runs it: its config file and its data dir owned by etcd under CIS.
                var etcd = EtcdNode.FromConfig(config);
                node._etcd = new EtcdMember(etcd.Prepare(etcd.SingleMemberConfig()), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
                await node._etcd.StartAsync(cancellationToken);
            }
            return node;
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Replaces text in a file of the data dir (keeping its mode), e.g. to flip --anonymous-auth in a manifest.</summary>
    public void Replace(string relative, string from, string to)
    {
        var path = Data(relative);
        var text = File.ReadAllText(path);
        if (!text.Contains(from, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} does not contain '{from}'");
        }
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>Stops the etcd member started by <see cref="CreateAsync"/> (a node whose etcd is down).</summary>
    public async Task StopEtcdAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
            _etcd = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
        _dir.Dispose();
    }
}
