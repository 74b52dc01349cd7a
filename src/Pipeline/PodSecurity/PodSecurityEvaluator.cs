using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// Evaluates the data-driven rules of <see cref="PodSecurityStandards"/> on one pod (its metadata and spec), reporting each
/// offending field with its full path and line. Paths: dot-separated keys; "key[*]" walks every item of a list;
/// "key[prefix*]" the entries of a mapping whose key matches; "spec.containers[*]" stands for every container list.
/// </summary>
public sealed class PodSecurityEvaluator(PodSecurityStandards standards)
{
    private const string ContainersPrefix = "spec.containers[*].";

    /// <param name="pod">The pod or pod template (the mapping with metadata and spec).</param>
    /// <param name="prefix">Where the template sits in its manifest ("" for a Pod, "spec.template." for a Deployment).</param>
    public IReadOnlyList<PodSecurityViolation> Evaluate(YamlMappingNode pod, string prefix, IReadOnlyList<PodSecurityRule> rules)
    {
        var windows = Resolve(pod, "spec.os.name", prefix).FirstOrDefault().Node is YamlScalarNode { Value: "windows" };
        var violations = new List<PodSecurityViolation>();
        foreach (var rule in rules.Where(r => !(r.LinuxOnly && windows)))
        {
            foreach (var check in rule.Checks)
            {
                if (!check.Path.StartsWith(ContainersPrefix, StringComparison.Ordinal))
                {
                    Check(rule, check, pod, pod, check.Path, prefix, violations);
                    continue;
                }
                foreach (var list in standards.ContainerLists)
                {
                    var containers = Resolve(pod, $"spec.{list}", prefix).FirstOrDefault();
                    if (containers.Node is not YamlSequenceNode items)
                    {
                        continue;
                    }
                    for (var i = 0; i < items.Children.Count; i++)
                    {
                        if (items.Children[i] is YamlMappingNode container)
                        {
                            Check(rule, check, pod, container, check.Path[ContainersPrefix.Length..], $"{containers.Path}[{i}].", violations);
                        }
                    }
                }
            }
        }
        return violations;
    }

    private static void Check(PodSecurityRule rule, PodSecurityCheck check, YamlMappingNode pod, YamlMappingNode at, string path, string prefix, List<PodSecurityViolation> violations)
    {
        void Fail(string field, YamlNode node, string actual) => violations.Add(new PodSecurityViolation(rule, field, (int)node.Start.Line, actual, check.Expected));
        var found = Resolve(at, path, prefix);
        if (found.Count == 0)
        {
            // A container inherits the pod-level value; the pod-level check of the same rule judges that value.
            if (check.Required && (check.Fallback is null || Resolve(pod, check.Fallback, "").Count == 0))
            {
                Fail(prefix + path.Replace("[*]", "", StringComparison.Ordinal), at, "unset");
            }
            return;
        }
        foreach (var (node, field) in found)
        {
            var value = node is YamlScalarNode scalar ? Normalize(scalar.Value) : null;
            if (check.AllowedKeys is { } keys)
            {
                foreach (var key in ((node as YamlMappingNode)?.Children.Keys ?? []).OfType<YamlScalarNode>())
                {
                    if (key.Value is { } name && name != "name" && !keys.Contains(name))
                    {
                        Fail($"{field}.{name}", key, name);
                    }
                }
            }
            else if (check.MustContain is { } item)
            {
                if (node is not YamlSequenceNode list || !list.Children.OfType<YamlScalarNode>().Any(s => s.Value == item))
                {
                    Fail(field, node, Show(node));
                }
            }
            else if (check.Forbidden is { } forbidden)
            {
                if (value is not null && forbidden.Contains(value))
                {
                    Fail(field, node, value);
                }
            }
            else if (check.Allowed is { } allowed && (value is null || !allowed.Any(a => Matches(a, value))))
            {
                Fail(field, node, Show(node));
            }
        }
    }

    /// <summary>The nodes a path reaches under a mapping, each with its concrete path (list indexes and mapping keys filled in).</summary>
    public static IReadOnlyList<(YamlNode Node, string Path)> Resolve(YamlMappingNode root, string path, string prefix)
    {
        var current = new List<(YamlNode Node, string Path)> { (root, prefix.TrimEnd('.')) };
        foreach (var segment in Split(path))
        {
            var open = segment.IndexOf('[', StringComparison.Ordinal);
            var key = open < 0 ? segment : segment[..open];
            var selector = open < 0 ? null : segment[(open + 1)..^1];
            var next = new List<(YamlNode, string)>();
            foreach (var (node, at) in current)
            {
                if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var child) || IsNull(child))
                {
                    continue;
                }
                var here = at.Length == 0 ? key : $"{at}.{key}";
                if (selector is null)
                {
                    next.Add((child, here));
                }
                else if (child is YamlSequenceNode items)
                {
                    next.AddRange(items.Children.Select((item, i) => (item, $"{here}[{i}]")));
                }
                else if (child is YamlMappingNode entries)
                {
                    next.AddRange(entries.Children.Where(e => e.Key is YamlScalarNode { Value: { } k } && Matches(selector, k))
                        .Select(e => (e.Value, $"{here}[{((YamlScalarNode)e.Key).Value}]")));
                }
            }
            current = next;
        }
        return current;
    }

    /// <summary>Splits a path at dots outside brackets (annotation keys contain dots).</summary>
    private static IEnumerable<string> Split(string path)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < path.Length; i++)
        {
            depth += path[i] switch { '[' => 1, ']' => -1, _ => 0 };
            if (path[i] == '.' && depth == 0)
            {
                yield return path[start..i];
                start = i + 1;
            }
        }
        yield return path[start..];
    }

    // An explicit null (key:, key: null, key: ~) is the same as an absent field to the API server.
    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static bool Matches(string pattern, string value) =>
        pattern.EndsWith('*') ? value.StartsWith(pattern[..^1], StringComparison.Ordinal) : pattern == value;

    // YAML 1.1 spellings of booleans Kubernetes accepts.
    private static string? Normalize(string? value) => value switch
    {
        "True" or "TRUE" => "true",
        "False" or "FALSE" => "false",
        _ => value,
    };

    private static string Show(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "null",
        YamlSequenceNode l => "[" + string.Join(", ", l.Children.Select(Show)) + "]",
        _ => "(set)",
    };
}
