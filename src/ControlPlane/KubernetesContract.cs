using System.Text.RegularExpressions;
using Bulwark.Resources;

namespace Bulwark.ControlPlane;

/// <summary>
/// What the pinned upstream release accepts, as data (policies/kubernetes/&lt;minor&gt;/): the one place the Kubernetes
/// minor is pinned (version.yaml), and each component's flag set. Parsed once per <see cref="EmbeddedData"/>.
/// </summary>
public sealed partial class KubernetesContract
{
    public const string Root = "policies/kubernetes/";

    /// <summary>The minor Bulwark renders for. Changing it means a new folder under policies/kubernetes/ with that release's facts.</summary>
    public const string PinnedMinor = "1.32";

    public static readonly string Folder = $"{Root}v{PinnedMinor}/";

    private static readonly Lazy<KubernetesContract> BuiltInContract = new(() => Load(EmbeddedData.BuiltIn));

    private KubernetesContract(string kubernetesMinor, string etcdMinor, IReadOnlyDictionary<string, UpstreamFlagSet> flagSets)
    {
        KubernetesMinor = kubernetesMinor;
        EtcdMinor = etcdMinor;
        FlagSets = flagSets;
    }

    public static KubernetesContract BuiltIn => BuiltInContract.Value;

    public string KubernetesMinor { get; }
    public string EtcdMinor { get; }
    public IReadOnlyDictionary<string, UpstreamFlagSet> FlagSets { get; }

    public UpstreamFlagSet this[string component] => FlagSets[component];

    public static KubernetesContract Load(EmbeddedData data)
    {
        var versionPath = Folder + "version.yaml";
        var version = YamlNodes.ParseSingleMapping(data.ReadText(versionPath), versionPath);
        var reader = new YamlNodes.Reader(versionPath);
        var minor = reader.NonEmptyString(version, "kubernetes-minor");
        if (minor != PinnedMinor)
        {
            throw new ControlPlaneDataException($"{versionPath}: kubernetes-minor {minor} does not match the folder it is in (v{PinnedMinor})");
        }
        var sets = ComponentSpecLoader.Names.ToDictionary(n => n, n => UpstreamFlagSet.Load(data, Folder, n), StringComparer.Ordinal);
        return new KubernetesContract(minor, reader.NonEmptyString(version, "etcd-minor"), sets);
    }

    /// <summary>
    /// Null when a component binary's <c>--version</c> output ("Kubernetes v1.32.3") is of the pinned minor; otherwise
    /// why it is refused, with the fix.
    /// </summary>
    public string? CheckVersionOutput(string binary, string versionOutput)
    {
        var match = KubernetesVersion().Match(versionOutput);
        if (!match.Success)
        {
            return $"{binary} --version printed \"{versionOutput.Trim()}\", not a Kubernetes version; the runtime bundle must hold the upstream v{KubernetesMinor}.x binaries";
        }
        var found = $"{match.Groups[1].Value}.{match.Groups[2].Value}";
        return found == KubernetesMinor
            ? null
            : $"{binary} is Kubernetes v{match.Groups[1].Value}.{match.Groups[2].Value}.{match.Groups[3].Value}, but this Bulwark renders flags and config files for v{KubernetesMinor} only " +
              $"(policies/kubernetes/v{KubernetesMinor}/); install the v{KubernetesMinor}.x runtime bundle, or a Bulwark release made for v{found}";
    }

    [GeneratedRegex(@"Kubernetes v(\d+)\.(\d+)\.(\d+)")]
    private static partial Regex KubernetesVersion();
}
