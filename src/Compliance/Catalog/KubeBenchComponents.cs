using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Catalog;

/// <summary>
/// The component keys of a kube-bench config.yaml (master:, node:, etcd:, controlplane:, policies:, managedservices:),
/// read as kube-bench reads them: for each component a section lists under components:, $&lt;component&gt;bin is the
/// first of its bins that runs (else its first, whose manifest or args file Bulwark then reads), and
/// $&lt;component&gt;conf, kubeconfig, svc, cafile and datadir are the first path of confs, kubeconfig, svc, cafile and
/// datadirs that exists (else defaultconf … defaultdatadir).
/// </summary>
public sealed record KubeBenchComponents(IReadOnlyDictionary<string, IReadOnlyList<string>> Binaries, IReadOnlyDictionary<string, VariableSpec> Variables)
{
    /// <summary>kube-bench's sections, in the order a variable defined by more than one of them is taken from.</summary>
    public static readonly IReadOnlyList<string> Sections = ["master", "node", "etcd", "controlplane", "policies", "managedservices"];

    /// <summary>kube-bench's TypeMap: variable suffix, the key listing candidate paths, the key naming the default.</summary>
    private static readonly (string Suffix, string List, string Default)[] PathKinds =
    [
        ("conf", "confs", "defaultconf"),
        ("kubeconfig", "kubeconfig", "defaultkubeconfig"),
        ("svc", "svc", "defaultsvc"),
        ("cafile", "cafile", "defaultcafile"),
        ("datadir", "datadirs", "defaultdatadir"),
    ];

    // client_cert_file/client_key_file: kube-bench's etcd client credentials, not substituted into checks.
    private static readonly HashSet<string> KnownKeys = new(
        ["bins", "optional", .. PathKinds.SelectMany(k => new[] { k.List, k.Default }), "client_cert_file", "client_key_file"], StringComparer.Ordinal);

    public static KubeBenchComponents Parse(YamlMappingNode root, string file)
    {
        var binaries = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var variables = new Dictionary<string, VariableSpec>(StringComparer.Ordinal);
        foreach (var section in Sections)
        {
            if (CatalogLoader.Map(root, section, file) is not { } sectionMap)
            {
                continue;
            }
            // kube-bench reads only the components its section lists; other entries are not its business.
            foreach (var component in CatalogLoader.List(sectionMap, "components", file))
            {
                if (CatalogLoader.Get(sectionMap, component) is not { } node)
                {
                    continue;
                }
                var where = $"{section}.{component}";
                var entry = CatalogLoader.AsMap(node, file, $"{where} (bins, confs, defaultconf …)");
                foreach (var key in entry.Children.Keys.OfType<YamlScalarNode>().Where(k => !KnownKeys.Contains(k.Value!)))
                {
                    throw new CatalogException($"{file}:{key.Start.Line}: {where} has unknown key '{key.Value}'; kube-bench reads {string.Join(", ", KnownKeys)} (a misspelt key would leave its default in force).");
                }
                CatalogLoader.Bool(entry, "optional", false, file);
                var bins = CatalogLoader.List(entry, "bins", file);
                if (bins.Count > 0)
                {
                    binaries.TryAdd(component, bins);
                    // Not running: kube-bench would substitute the component's name (and refuse to run for a component that is
                    // not optional); Bulwark names its first binary, so the check reads the component's manifest or args file.
                    variables.TryAdd(component + "bin", new VariableSpec(component + "bin", null, null, null, null, bins[0], null) { FirstRunning = bins });
                }
                foreach (var (suffix, listKey, defaultKey) in PathKinds)
                {
                    var candidates = CatalogLoader.List(entry, listKey, file);
                    var fallback = SinglePath(entry, defaultKey, where, file);
                    if (candidates.Count == 0 && fallback is null)
                    {
                        // kube-bench would substitute the component's name, never a useful path; the catalog's own default stays.
                        continue;
                    }
                    var name = component + suffix;
                    variables.TryAdd(name, new VariableSpec(name, null, null, null, null, fallback ?? component, null) { FirstExisting = candidates });
                }
            }
        }
        return new KubeBenchComponents(binaries, variables);
    }

    private static string? SinglePath(YamlMappingNode entry, string key, string where, string file) => CatalogLoader.Get(entry, key) switch
    {
        null => null,
        YamlScalarNode s => string.IsNullOrEmpty(s.Value) ? null : s.Value,
        var other => throw new CatalogException($"{file}:{other.Start.Line}: {where}.{key} must be one path (a plain value); kube-bench uses it when no path of the list exists."),
    };
}
