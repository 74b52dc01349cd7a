using Bulwark.ControlPlane;
using Bulwark.Resources;
using Tomlyn.Model;

namespace Bulwark.Runtime;

/// <summary>
/// The config.toml keys containerd 1.6.20 accepts, with their TOML types, and the ones that silently disable CRI,
/// kept as data (policies/containerd/v1.6.20.yaml). containerd ignores unknown keys without a word, so every render
/// is checked against it: a key Bulwark writes that containerd would not read is a Bulwark bug, caught before start.
/// </summary>
public sealed record ContainerdConfigContract(string Version, IReadOnlyDictionary<string, string> Keys, IReadOnlyDictionary<string, string> Forbidden)
{
    public const string DataFile = "policies/containerd/v1.6.20.yaml";
    private const string HostSegment = "<host>";

    public static readonly Lazy<ContainerdConfigContract> BuiltIn = new(() => Load(EmbeddedData.BuiltIn));

    public static ContainerdConfigContract Load(EmbeddedData data)
    {
        var root = YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile);
        var r = new YamlNodes.Reader(DataFile);
        Dictionary<string, string> Map(string key) => r.OptionalMapping(root, key) is { } map
            ? map.Children.ToDictionary(e => e.Key.ToString(), e => e.Value.ToString(), StringComparer.Ordinal)
            : [];
        return new ContainerdConfigContract(r.NonEmptyString(root, "containerd-version"), Map("keys"), Map("forbidden"));
    }

    /// <summary>Every problem of a rendered config: keys containerd does not know, wrong types, keys that disable CRI.</summary>
    public IReadOnlyList<string> Check(TomlTable config)
    {
        var problems = new List<string>();
        foreach (var (path, value) in Leaves(config, []))
        {
            var dotted = Dotted(path);
            if (Forbidden.FirstOrDefault(f => Matches(f.Key, path, prefix: true)) is { Key: not null } forbidden)
            {
                problems.Add($"{dotted}: {forbidden.Value}");
            }
            else if (Keys.FirstOrDefault(k => Matches(k.Key, path, prefix: false)) is { Key: not null } known)
            {
                if (TypeOf(value) != known.Value)
                {
                    problems.Add($"{dotted}: containerd {Version} reads a {known.Value} here, not a {TypeOf(value)}");
                }
            }
            else
            {
                problems.Add($"{dotted}: not a key containerd {Version} reads (it would be ignored silently)");
            }
        }
        return problems;
    }

    private static IEnumerable<(IReadOnlyList<string> Path, object Value)> Leaves(TomlTable table, IReadOnlyList<string> prefix)
    {
        foreach (var (key, value) in table)
        {
            IReadOnlyList<string> path = [.. prefix, key];
            if (value is TomlTable child && child.Count > 0)
            {
                foreach (var leaf in Leaves(child, path))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return (path, value);
            }
        }
    }

    private static bool Matches(string pattern, IReadOnlyList<string> path, bool prefix)
    {
        var segments = Split(pattern);
        if (segments.Count > path.Count || (!prefix && segments.Count != path.Count))
        {
            return false;
        }
        return segments.Select((s, i) => s == HostSegment || s == path[i]).All(m => m);
    }

    /// <summary>TOML dotted-key segments; "quoted" segments keep their dots.</summary>
    private static List<string> Split(string dotted)
    {
        var segments = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in dotted)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '.' && !quoted)
            {
                segments.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        segments.Add(current.ToString());
        return segments;
    }

    private static string Dotted(IReadOnlyList<string> path) =>
        string.Join('.', path.Select(p => p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? p : $"\"{p}\""));

    private static string TypeOf(object value) => value switch
    {
        string => "string",
        long or int => "integer",
        bool => "boolean",
        TomlArray or TomlTableArray => "array",
        TomlTable => "table",
        _ => value.GetType().Name,
    };
}
