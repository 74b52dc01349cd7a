using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Cni;

/// <summary>The CNIs Bulwark deploys, read from policies/cni/&lt;name&gt;.yaml.</summary>
public sealed class CniCatalog
{
    public const string Folder = "policies/cni/";
    public static readonly IReadOnlyList<string> Names = ["canal", "calico", "cilium", "multus"];

    private readonly Dictionary<string, CniSpec> _specs;

    private CniCatalog(Dictionary<string, CniSpec> specs) => _specs = specs;

    public static CniCatalog Load(EmbeddedData data) =>
        new(Names.ToDictionary(n => n, n => Parse(data.ReadText(Folder + n + ".yaml"), Folder + n + ".yaml"), StringComparer.Ordinal));

    public static readonly Lazy<CniCatalog> BuiltIn = new(() => Load(EmbeddedData.BuiltIn));

    public CniSpec this[string name] => _specs[name];

    public IEnumerable<CniSpec> All => Names.Select(n => _specs[n]);

    /// <summary>The specs of the CNIs a selection deploys (none → empty).</summary>
    public IReadOnlyList<CniSpec> For(CniSelection selection) => selection.Deployed.Select(n => _specs[n]).ToList();

    internal static CniSpec Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var r = new YamlNodes.Reader(path);
        var chart = r.OptionalMapping(root, "chart") ?? throw r.Error(root, "missing chart");
        var node = r.OptionalMapping(root, "node") ?? throw r.Error(root, "missing node");
        var cleanup = r.OptionalMapping(root, "cleanup") ?? throw r.Error(root, "missing cleanup");
        var adaptation = r.OptionalMapping(root, "network-policy-adaptation");
        var minKernel = r.NonEmptyString(node, "min-kernel");
        return new CniSpec(
            r.NonEmptyString(root, "name"),
            r.NonEmptyString(root, "description"),
            Bool(r, root, "network-policy"),
            r.OptionalString(root, "fips-builds") != "false",
            new CniChart(r.NonEmptyString(chart, "name"), r.NonEmptyString(chart, "repo"), r.NonEmptyString(chart, "version"),
                Bool(r, chart, "bootstrap"), r.OptionalString(chart, "crd-chart")),
            new CniNodeFiles(r.NonEmptyString(node, "conflist"), Strings(r, node, "plugins"), Strings(r, node, "binaries"),
                Strings(r, node, "interfaces-ignored-by-networkmanager"),
                Version.TryParse(minKernel, out var v) ? v : throw r.Error(node, $"min-kernel \"{minKernel}\" is not a version")),
            Values(r, root, "hardened-values"),
            Values(r, root, "with-multus-values"),
            adaptation is not null && Bool(r, adaptation, "allow-from-pod-cidr-gateways"),
            Strings(r, root, "psa-exempt-namespaces"),
            Strings(r, root, "images"),
            new CniCleanup(Strings(r, cleanup, "interfaces"), Strings(r, cleanup, "iptables-chain-prefixes"), Strings(r, cleanup, "paths")));
    }

    private static bool Bool(YamlNodes.Reader r, YamlMappingNode map, string key) => r.NonEmptyString(map, key) switch
    {
        "true" => true,
        "false" => false,
        var other => throw r.Error(map, $"{key}: expected true or false, got \"{other}\""),
    };

    private static IReadOnlyList<string> Strings(YamlNodes.Reader r, YamlMappingNode map, string key) => r.OptionalStringList(map, key) ?? [];

    private static IReadOnlyList<ChartValue> Values(YamlNodes.Reader r, YamlMappingNode root, string key) =>
        r.OptionalSequence(root, key).Select(n =>
        {
            var m = r.AsMapping(n, "a chart value");
            return new ChartValue(r.NonEmptyString(m, "path"), r.NonEmptyString(m, "value"), Strings(r, m, "controls"), r.NonEmptyString(m, "why"));
        }).ToList();
}
