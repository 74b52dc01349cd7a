namespace Bulwark.Compliance.Catalog;

/// <summary>
/// A catalog's config.yaml: where each component's arguments are found and how each variable ($apiserverconf…)
/// is resolved on this node. Variables follow component arguments first (e.g. kube-apiserver's
/// --admission-control-config-file), then a structured file's field, then the layout default.
/// </summary>
public sealed record CatalogSettings(IReadOnlyDictionary<string, ComponentSource> Components, IReadOnlyDictionary<string, VariableSpec> Variables)
{
    public static readonly CatalogSettings Empty = new(new Dictionary<string, ComponentSource>(), new Dictionary<string, VariableSpec>());

    /// <summary>
    /// The bins of a kube-bench config.yaml's components (master.apiserver.bins …), by kube-bench component name; merged
    /// into the component that has the same name or one of those binaries, so its manifest or args file stays known.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> KubeBenchBinaries { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Entries of <paramref name="overlay"/> replace same-named entries of this one.</summary>
    public CatalogSettings Merge(CatalogSettings overlay)
    {
        var components = new Dictionary<string, ComponentSource>(Components, StringComparer.Ordinal);
        foreach (var (k, v) in overlay.Components)
        {
            components[k] = v;
        }
        foreach (var (name, bins) in overlay.KubeBenchBinaries)
        {
            var known = components.Values.FirstOrDefault(c => c.Name == name || c.Binaries.Intersect(bins, StringComparer.Ordinal).Any());
            components[known?.Name ?? name] = known is null
                ? new ComponentSource(name, bins, null, null)
                : known with { Binaries = [.. known.Binaries.Union(bins, StringComparer.Ordinal)] };
        }
        var variables = new Dictionary<string, VariableSpec>(Variables, StringComparer.Ordinal);
        foreach (var (k, v) in overlay.Variables)
        {
            variables[k] = v;
        }
        return new CatalogSettings(components, variables);
    }
}

/// <summary>
/// Where a component's arguments come from when it is not running: a static pod manifest (container 0's
/// command + args) or an args file (one --name=value per line). Binaries are the process names to look for.
/// </summary>
public sealed record ComponentSource(string Name, IReadOnlyList<string> Binaries, string? Manifest, string? ArgsFile);

/// <summary>A variable: the value of a component flag, else a field of a structured file, else a default path.</summary>
public sealed record VariableSpec(string Name, string? Component, string? Flag, string? ConfigFile, string? ConfigPath, string? Default, string? Literal)
{
    /// <summary>kube-bench's file lists (confs, kubeconfig, svc, cafile, datadirs): the first path that exists on the node wins over <see cref="Default"/>.</summary>
    public IReadOnlyList<string> FirstExisting { get; init; } = [];

    /// <summary>kube-bench's bins: the first of these running on the node wins over <see cref="Default"/>.</summary>
    public IReadOnlyList<string> FirstRunning { get; init; } = [];
}
