using System.Net;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.FileSystem;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Addons;

/// <summary>
/// Writes the HelmChart manifests of the selected CNI(s) into server/manifests with the cluster's values and Bulwark's
/// hardened overrides, removes those of CNIs not selected, refuses FIPS-unsafe user overrides (WireGuard) and a change of
/// the primary CNI on a running cluster. helm-controller installs the charts once the applier has sent them.
/// </summary>
public sealed class CniAddonRenderer(CniCatalog catalog, ApiResourceTable resources)
{
    public const string Namespace = "kube-system";

    public IReadOnlyList<RenderedFile> Render(EffectiveConfig config)
    {
        var paths = new AddonPaths(config.DataDir);
        var selection = CniSelection.From(config);
        CheckPrimaryUnchanged(paths, selection);
        var deployed = catalog.For(selection);
        CheckUserOverrides(paths, config, deployed);

        AtomicFile.EnsureDirectory(paths.Manifests, AtomicFile.PrivateDirectory);
        var files = new List<RenderedFile>();
        foreach (var spec in catalog.All)
        {
            var chartFiles = new[] { spec.Chart.Name }.Concat(spec.Chart.CrdChart is { } crd ? [crd] : []).ToList();
            if (deployed.Contains(spec))
            {
                var documents = chartFiles.Select(chart => (YamlNode)HelmChart(config, paths, spec, chart, selection, isCrdChart: chart != spec.Chart.Name)).ToArray();
                // The CRD chart goes in its own file (applied first: names sort before the main chart).
                for (var i = 0; i < chartFiles.Count; i++)
                {
                    var path = paths.ChartFile(chartFiles[i]);
                    var written = AtomicFile.WriteIfChanged(path, YamlNodes.Serialize(documents[i]), AtomicFile.Private);
                    files.Add(new RenderedFile(path, written ? FileChange.Written : FileChange.Unchanged, $"{spec.Name} HelmChart {chartFiles[i]}"));
                }
            }
            else
            {
                foreach (var path in chartFiles.Select(paths.ChartFile).Where(File.Exists))
                {
                    File.Delete(path);
                    files.Add(new RenderedFile(path, FileChange.Removed, $"{spec.Name} HelmChart (cni is {selection.Display})"));
                }
            }
        }
        var primaryRecord = selection.Primary + "\n";
        AtomicFile.WriteIfChanged(paths.DeployedCni, primaryRecord, AtomicFile.Private);
        return files;
    }

    /// <summary>One HelmChart: the chart by repository and version (or a local archive as chartContent), cluster values as set, hardened values.</summary>
    public YamlMappingNode HelmChart(EffectiveConfig config, AddonPaths paths, CniSpec spec, string chartName, CniSelection selection, bool isCrdChart)
    {
        var archive = paths.ChartArchive(chartName, spec.Chart.Version);
        var source = File.Exists(archive)
            ? new (string, YamlNode?)[] { ("chartContent", YamlNodes.Str(LocalChart(archive))) }
            : [("chart", YamlNodes.Str(chartName)), ("repo", YamlNodes.Str(spec.Chart.Repo)), ("version", YamlNodes.Str(spec.Chart.Version))];
        var values = isCrdChart ? [] : spec.HardenedValues.Concat(selection.Multus ? spec.WithMultusValues : []).ToList();
        var controls = values.SelectMany(v => v.Controls).Distinct().Order(StringComparer.Ordinal).ToList();
        var entries = new List<(string, YamlNode?)>(source)
        {
            ("bootstrap", YamlNodes.Bool(spec.Chart.Bootstrap)),
            ("targetNamespace", YamlNodes.Str(Namespace)),
        };
        if (!isCrdChart)
        {
            entries.Add(("set", ClusterValues(config)));
        }
        if (values.Count > 0)
        {
            entries.Add(("valuesContent", new YamlScalarNode(YamlNodes.Serialize(Nested(values))) { Style = YamlDotNet.Core.ScalarStyle.Literal }));
        }
        var metadata = YamlNodes.Map(
            ("name", YamlNodes.Str(chartName)),
            ("namespace", YamlNodes.Str(Namespace)),
            ("labels", YamlNodes.Map(("app.kubernetes.io/managed-by", YamlNodes.Str("bulwark")), ("bulwark.io/cni", YamlNodes.Str(spec.Name)))),
            ("annotations", controls.Count == 0 ? null : YamlNodes.Map(("bulwark.io/controls", YamlNodes.Str(string.Join(",", controls))))));
        return YamlNodes.Map(
            ("apiVersion", YamlNodes.Str("helm.cattle.io/v1")),
            ("kind", YamlNodes.Str("HelmChart")),
            ("metadata", metadata),
            ("spec", YamlNodes.Map([.. entries])));
    }

    /// <summary>The values RKE2 injects into every packaged chart (helm --set syntax; all strings).</summary>
    public static YamlMappingNode ClusterValues(EffectiveConfig config)
    {
        var clusterCidrs = config.Get(ConfigKeys.ClusterCidr).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? Family(bool v6) => clusterCidrs.FirstOrDefault(c => IPNetwork.Parse(c).BaseAddress.AddressFamily == (v6 ? System.Net.Sockets.AddressFamily.InterNetworkV6 : System.Net.Sockets.AddressFamily.InterNetwork));
        var registry = config.Get(ConfigKeys.SystemDefaultRegistry);
        var entries = new List<(string, YamlNode?)>
        {
            ("global.clusterCIDR", YamlNodes.Str(config.Get(ConfigKeys.ClusterCidr))),
            ("global.clusterCIDRv4", Family(false) is { } v4 ? YamlNodes.Str(v4) : null),
            ("global.clusterCIDRv6", Family(true) is { } v6 ? YamlNodes.Str(v6) : null),
            ("global.serviceCIDR", YamlNodes.Str(config.Get(ConfigKeys.ServiceCidr))),
            ("global.clusterDNS", YamlNodes.Str(config.Get(ConfigKeys.ClusterDns))),
            ("global.clusterDomain", YamlNodes.Str(config.Get(ConfigKeys.ClusterDomain))),
            ("global.rke2DataDir", YamlNodes.Str(config.DataDir)),
            ("global.systemDefaultRegistry", registry.Length > 0 ? YamlNodes.Str(registry) : null),
            ("global.cattle.systemDefaultRegistry", registry.Length > 0 ? YamlNodes.Str(registry) : null),
        };
        return YamlNodes.Map([.. entries]);
    }

    private static YamlMappingNode Nested(IEnumerable<ChartValue> values)
    {
        var root = new YamlMappingNode();
        foreach (var value in values)
        {
            // Plain scalars keep their YAML type (false stays a boolean, Drop a string).
            YamlNodes.SetPath(root, value.Path, new YamlScalarNode(value.Value));
        }
        return root;
    }

    private static string LocalChart(string archive)
    {
        var bytes = File.ReadAllBytes(archive);
        return bytes is [0x1f, 0x8b, ..]
            ? Convert.ToBase64String(bytes)
            : throw new AddonException($"{archive}: not a gzip-compressed chart archive (.tgz); replace it with the chart's helm package output or remove it to use the repository");
    }

    private static void CheckPrimaryUnchanged(AddonPaths paths, CniSelection selection)
    {
        if (!File.Exists(paths.DeployedCni))
        {
            return;
        }
        var previous = File.ReadAllText(paths.DeployedCni).Trim();
        if (previous.Length > 0 && previous != selection.Primary)
        {
            throw new AddonException(
                $"cni: this cluster was deployed with {previous}; changing the primary CNI on a running cluster is not supported (pods keep {previous}'s " +
                $"addresses and rules). Either keep cni: {previous}, or rebuild the network: stop Bulwark on every node, run the node cleanup " +
                $"(bulwark killall removes {previous}'s interfaces, iptables chains and /var/lib/cni state), delete {paths.DeployedCni}, then start with the new cni", Diagnostics.ErrorKind.Refused);
        }
    }

    /// <summary>A user's HelmChartConfig for a deployed chart: only helm-controller's fields; under fips-mode no WireGuard.</summary>
    private void CheckUserOverrides(AddonPaths paths, EffectiveConfig config, IReadOnlyList<CniSpec> deployed)
    {
        if (!Directory.Exists(paths.Manifests))
        {
            return;
        }
        var fips = config.Get(ConfigKeys.FipsMode) != "off";
        var charts = deployed.Select(s => s.Chart.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var file in ManifestFiles.List(paths.Manifests))
        {
            foreach (var (document, _) in ManifestFiles.Documents(file))
            {
                if (ManifestFiles.Scalar(document, "kind") != "HelmChartConfig" || ManifestFiles.Child(document, "metadata") is not YamlMappingNode metadata
                    || ManifestFiles.Scalar(metadata, "name") is not { } name || !charts.Contains(name)
                    || ManifestFiles.Child(document, "spec") is not YamlMappingNode spec)
                {
                    continue;
                }
                foreach (var (key, _) in spec.Children.Where(c => !resources.HelmChartConfigFields.Contains(((YamlScalarNode)c.Key).Value)))
                {
                    problems.Add($"{file}:{key.Start.Line}: HelmChartConfig {name}: unknown spec field \"{key}\"; helm-controller reads {string.Join(", ", resources.HelmChartConfigFields)}");
                }
                if (fips && ManifestFiles.Child(spec, "valuesContent") is YamlScalarNode { Value: { } valuesText } valuesNode)
                {
                    problems.AddRange(WireGuardSettings(valuesText).Select(setting =>
                        $"{file}:{valuesNode.Start.Line}: HelmChartConfig {name}: {setting} is refused with fips-mode {config.Get(ConfigKeys.FipsMode)}: WireGuard's " +
                        "ChaCha20-Poly1305 is not FIPS-approved; remove it (Cilium: use encryption.type: ipsec with rfc4106(gcm(aes)) keys), or set fips-mode: off"));
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new AddonException(string.Join("\n", problems));
        }
    }

    /// <summary>The WireGuard switches of the three charts: flannel backend, Calico felix, Cilium encryption.</summary>
    internal static IEnumerable<string> WireGuardSettings(string valuesYaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(valuesYaml));
        }
        catch (YamlDotNet.Core.YamlException)
        {
            yield break;
        }
        if (stream.Documents.FirstOrDefault()?.RootNode is not YamlMappingNode root)
        {
            yield break;
        }
        string? At(params string[] path)
        {
            YamlNode node = root;
            foreach (var part in path)
            {
                if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(part), out var child))
                {
                    return null;
                }
                node = child;
            }
            return (node as YamlScalarNode)?.Value;
        }
        if (At("flannel", "backend") is { } backend && backend.StartsWith("wireguard", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"flannel.backend: {backend}";
        }
        foreach (var key in new[] { "wireguardEnabled", "wireguardEnabledV6" })
        {
            if (At("felixConfiguration", key) is "true" or "True")
            {
                yield return $"felixConfiguration.{key}: true";
            }
        }
        if (At("encryption", "type") is { } type && type.Equals("wireguard", StringComparison.OrdinalIgnoreCase))
        {
            yield return $"encryption.type: {type}";
        }
    }
}
