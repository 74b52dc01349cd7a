using System.Text.RegularExpressions;
using Bulwark.Compliance.Catalog;

namespace Bulwark.Compliance.Evidence;

/// <summary>
/// Resolves catalog variables ($apiserverconf…) on this node: a component's flag value when the component
/// declares it (following the running process or its manifest), else a field of a structured file, else the
/// layout default. Results are host paths or literal values, memoised for the run.
/// </summary>
public sealed partial class VariableResolver(NodePaths node, CatalogSettings settings, ComponentArgsReader args, DocumentCache documents)
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);

    /// <summary>Replaces $variables and the {data}/{etc} placeholders in a catalog string.</summary>
    public string Expand(string template) =>
        node.ExpandPlaceholders(VariablePattern().Replace(template, m => Resolve(m.Groups[1].Value)));

    /// <summary>
    /// For shell commands (--allow-exec): replaces only the variables the catalog defines, as kube-bench does, and
    /// leaves other $NAMEs (shell variables such as $ENCRYPTION_PROVIDER_CONFIG) to the shell.
    /// </summary>
    public string ExpandCatalogVariables(string command) =>
        VariablePattern().Replace(command, m => settings.Variables.ContainsKey(m.Groups[1].Value) ? Resolve(m.Groups[1].Value) : m.Value);

    public string Resolve(string name)
    {
        if (_values.TryGetValue(name, out var known))
        {
            return known;
        }
        if (!settings.Variables.TryGetValue(name, out var spec))
        {
            throw new CatalogException($"variable ${name} is not defined; add it under variables: in the catalog's config.yaml.");
        }
        if (!_resolving.Add(name))
        {
            throw new CatalogException($"variable ${name} refers to itself through other variables; break the cycle in config.yaml.");
        }
        try
        {
            var value = spec.Literal ?? FromArg(spec) ?? FromConfig(spec) ?? FromRunning(spec) ?? FromExisting(spec) ?? (spec.Default is null ? "" : Expand(spec.Default));
            _values[name] = value;
            return value;
        }
        finally
        {
            _resolving.Remove(name);
        }
    }

    private string? FromArg(VariableSpec spec) =>
        spec.Component is null || spec.Flag is null ? null : args.Read(spec.Component)?.FlagValue(spec.Flag);

    /// <summary>kube-bench's bins: the first binary (program name, or program and first arguments) running on this node.</summary>
    private string? FromRunning(VariableSpec spec) => spec.FirstRunning.FirstOrDefault(args.Runs);

    /// <summary>kube-bench's confs, kubeconfig, svc, cafile, datadirs: the first path that exists (a file or a folder).</summary>
    private string? FromExisting(VariableSpec spec) => spec.FirstExisting.Select(Expand)
        .FirstOrDefault(p => File.Exists(node.Resolve(p)) || Directory.Exists(node.Resolve(p)));

    private string? FromConfig(VariableSpec spec)
    {
        if (spec.ConfigFile is null || spec.ConfigPath is null)
        {
            return null;
        }
        var hostPath = Expand(spec.ConfigFile);
        var path = node.Resolve(hostPath);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            var nodes = JsonPathQuery.Select(documents.Load(path, hostPath).Root, spec.ConfigPath);
            return nodes.Count == 0 ? null : JsonPathQuery.Render(nodes);
        }
        catch (InvalidDataException)
        {
            // An unreadable file is reported by the checks that read it; the variable falls back to its default.
            return null;
        }
    }

    [GeneratedRegex(@"\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariablePattern();
}
