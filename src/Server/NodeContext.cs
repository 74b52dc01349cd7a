using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.FileSystem;
using Bulwark.Hardening;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server;

/// <summary>
/// What the stages of one run share: the config and layout (fixed), and the results earlier stages hand to later ones
/// (set once by the stage that makes them). A stage that needs a result reads it through <see cref="Require{T}"/>,
/// so a list in the wrong order fails loudly as a bug.
/// </summary>
public sealed class NodeContext(EffectiveConfig config, ILoggerFactory loggers, string bulwarkVersion, HostRoot hostRoot)
{
    public EffectiveConfig Config { get; } = config;

    public NodeLayout Layout { get; } = config.Layout;

    public ILoggerFactory Loggers { get; } = loggers;

    /// <summary>This build's version (the runtime bundle folder it expects is data/v&lt;version&gt;).</summary>
    public string BulwarkVersion { get; } = bulwarkVersion;

    /// <summary>The host root the preflight inspects ("/" unless --host-root).</summary>
    public HostRoot HostRoot { get; } = hostRoot;

    /// <summary>The process environment as the CLI read it (e.g. AWS_ACCESS_KEY_ID for etcd-s3).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Set by the crypto stage: the crypto service whose self-tests passed.</summary>
    public CryptoService? Crypto { get; set; }

    /// <summary>Set by the render stage.</summary>
    public RenderResult? Render { get; set; }

    /// <summary>This node's etcd settings (set by the stage that runs etcd).</summary>
    public EtcdNode? EtcdNode { get; set; }

    /// <summary>Set by the stage that starts (or joins) etcd, once it is healthy.</summary>
    public EtcdMember? Etcd { get; set; }

    /// <summary>Set by the join stage: the cluster's KMS keyring from the bootstrap data, for the kms stage to seal locally.</summary>
    public string? KmsKeyringImport { get; set; }

    /// <summary>Set by the kms stage: the keyring the plugin serves, shared with the cluster through the bootstrap data.</summary>
    public Kms.KmsClusterKeyring? KmsKeyring { get; set; }

    /// <summary>Prints a progress line under the running stage's label (for steps that take a while).</summary>
    public void Progress(string message) => ProgressSink?.Invoke(message);

    internal Action<string>? ProgressSink { get; set; }

    public static T Require<T>(T? value, string what) where T : class =>
        value ?? throw new BulwarkException(ErrorKind.Bug, $"{what} is not available: a stage that needs it runs before the stage that makes it (check the stage list)");
}
