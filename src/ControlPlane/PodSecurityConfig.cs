using System.Text.RegularExpressions;
using Bulwark.Config;
using Bulwark.Resources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Bulwark.Diagnostics;

namespace Bulwark.ControlPlane;

/// <summary>
/// The Pod Security Admission part of an AdmissionConfiguration: default levels and exemptions.
/// Rendered from policies/pod-security/defaults.yaml, or read (and validated) from the user's pod-security-admission-config-file.
/// </summary>
public sealed partial record PodSecurityConfig(IReadOnlyList<KeyValuePair<string, string>> Defaults, IReadOnlyList<string> Usernames,
    IReadOnlyList<string> RuntimeClasses, IReadOnlyList<string> Namespaces)
{
    public const string DataFile = "policies/pod-security/defaults.yaml";
    public const string AdmissionApiVersion = "apiserver.config.k8s.io/v1";
    public const string PodSecurityApiVersion = "pod-security.admission.config.k8s.io/v1";

    private static readonly string[] AdmissionApiVersions = [AdmissionApiVersion, "apiserver.k8s.io/v1alpha1"];
    private static readonly string[] PodSecurityApiVersions = [PodSecurityApiVersion, "pod-security.admission.config.k8s.io/v1beta1", "pod-security.admission.config.k8s.io/v1alpha1"];
    private static readonly string[] Levels = ["privileged", "baseline", "restricted"];
    private static readonly string[] LevelKeys = ["enforce", "audit", "warn"];

    public string? Level(string mode) => Defaults.FirstOrDefault(d => d.Key == mode).Value;

    /// <summary>The default for this node: restricted with exemptions under CIS, privileged otherwise.</summary>
    public static PodSecurityConfig Default(EffectiveConfig config, EmbeddedData data)
    {
        var root = YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile);
        var reader = new YamlNodes.Reader(DataFile);
        var section = reader.OptionalMapping(root, config.Profile == HardeningProfile.Cis ? "cis" : "none")
            ?? throw new ControlPlaneDataException($"{DataFile}: missing section");
        var defaults = reader.OptionalMapping(section, "defaults")!.Children
            .Select(c => new KeyValuePair<string, string>(((YamlScalarNode)c.Key).Value!, ((YamlScalarNode)c.Value).Value!)).ToList();
        var namespaces = (reader.OptionalStringList(section, "exempt-namespaces") ?? []).ToList();
        if (config.Profile == HardeningProfile.Cis && reader.OptionalMapping(root, "cni-namespaces") is { } cni)
        {
            foreach (var plugin in config.Get(ConfigKeys.Cni).Split(','))
            {
                namespaces.AddRange(reader.OptionalStringList(cni, plugin) ?? []);
            }
        }
        return new PodSecurityConfig(defaults, [], [], namespaces.Distinct(StringComparer.Ordinal).ToList());
    }

    public string ToYaml()
    {
        var configuration = YamlNodes.Map(
            ("apiVersion", YamlNodes.Str(PodSecurityApiVersion)),
            ("kind", YamlNodes.Str("PodSecurityConfiguration")),
            ("defaults", YamlNodes.Map(Defaults.Select(d => (d.Key, (YamlNode?)YamlNodes.Str(d.Value))).ToArray())),
            ("exemptions", YamlNodes.Map(
                ("usernames", YamlNodes.Strings(Usernames)),
                ("runtimeClasses", YamlNodes.Strings(RuntimeClasses)),
                ("namespaces", YamlNodes.Strings(Namespaces)))));
        var root = YamlNodes.Map(
            ("apiVersion", YamlNodes.Str(AdmissionApiVersion)),
            ("kind", YamlNodes.Str("AdmissionConfiguration")),
            ("plugins", YamlNodes.Seq(YamlNodes.Map(("name", YamlNodes.Str("PodSecurity")), ("configuration", configuration)))));
        return YamlNodes.Serialize(root);
    }

    /// <summary>
    /// Validates an AdmissionConfiguration (the user's file or ours): kind, apiVersion, levels, versions and the shapes
    /// of the exemptions. Every problem is listed with file:line and the path of the bad field.
    /// </summary>
    public static PodSecurityConfig Parse(string yaml, string path)
    {
        var problems = new List<string>();
        void Problem(YamlNode at, string field, string message) => problems.Add($"{path}:{at.Start.Line}: {field}: {message}");

        YamlMappingNode root;
        try
        {
            root = YamlNodes.ParseSingleMapping(yaml, path);
        }
        catch (ControlPlaneDataException e)
        {
            throw new PodSecurityConfigException([e.Message]);
        }
        CheckKindAndVersion(root, "", "AdmissionConfiguration", AdmissionApiVersions, Problem);
        var defaults = new List<KeyValuePair<string, string>>();
        List<string> usernames = [], runtimeClasses = [], namespaces = [];
        if (Child(root, "plugins") is not YamlSequenceNode plugins)
        {
            Problem(root, "plugins", "missing or not a list; it must hold the PodSecurity plugin");
        }
        else
        {
            var index = plugins.Children.ToList().FindIndex(p => p is YamlMappingNode m && ScalarOf(m, "name") == "PodSecurity");
            if (index < 0)
            {
                Problem(plugins, "plugins", "no entry with name: PodSecurity");
            }
            else
            {
                var plugin = (YamlMappingNode)plugins.Children[index];
                var at = $"plugins[{index}].configuration";
                if (Child(plugin, "configuration") is not YamlMappingNode configuration)
                {
                    Problem(plugin, at, "missing; give the PodSecurityConfiguration inline (a separate path is not supported)");
                }
                else
                {
                    CheckKindAndVersion(configuration, at + ".", "PodSecurityConfiguration", PodSecurityApiVersions, Problem);
                    ReadDefaults(configuration, at, defaults, Problem);
                    ReadExemptions(configuration, at, usernames, runtimeClasses, namespaces, Problem);
                }
            }
        }
        return problems.Count > 0 ? throw new PodSecurityConfigException(problems) : new PodSecurityConfig(defaults, usernames, runtimeClasses, namespaces);
    }

    private static void ReadDefaults(YamlMappingNode configuration, string at, List<KeyValuePair<string, string>> defaults, Action<YamlNode, string, string> problem)
    {
        if (Child(configuration, "defaults") is not { } node)
        {
            return;
        }
        if (node is not YamlMappingNode map)
        {
            problem(node, at + ".defaults", "must be a mapping of enforce/audit/warn levels");
            return;
        }
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var field = $"{at}.defaults.{key}";
            var value = valueNode is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.DoubleQuoted or ScalarStyle.SingleQuoted } s ? s.Value ?? "" : null;
            if (value is null)
            {
                problem(valueNode, field, "must be a string");
            }
            else if (LevelKeys.Contains(key))
            {
                if (!Levels.Contains(value))
                {
                    problem(valueNode, field, $"\"{value}\" is not a level; use privileged, baseline or restricted");
                }
            }
            else if (key.EndsWith("-version", StringComparison.Ordinal) && LevelKeys.Contains(key[..^"-version".Length]))
            {
                if (value != "latest" && !VersionPattern().IsMatch(value))
                {
                    problem(valueNode, field, $"\"{value}\" is not a version; use latest or v1.N (e.g. v1.32)");
                }
            }
            else
            {
                problem(keyNode, field, "unknown field; expected enforce, audit, warn and their -version fields");
            }
            if (value is not null)
            {
                defaults.Add(new(key, value));
            }
        }
    }

    private static void ReadExemptions(YamlMappingNode configuration, string at, List<string> usernames, List<string> runtimeClasses,
        List<string> namespaces, Action<YamlNode, string, string> problem)
    {
        if (Child(configuration, "exemptions") is not { } node)
        {
            return;
        }
        if (node is not YamlMappingNode map)
        {
            problem(node, at + ".exemptions", "must be a mapping with usernames, runtimeClasses and namespaces lists");
            return;
        }
        foreach (var (keyNode, valueNode) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var field = $"{at}.exemptions.{key}";
            var target = key switch { "usernames" => usernames, "runtimeClasses" => runtimeClasses, "namespaces" => namespaces, _ => null };
            if (target is null)
            {
                problem(keyNode, field, "unknown field; expected usernames, runtimeClasses or namespaces");
                continue;
            }
            if (valueNode is not YamlSequenceNode seq)
            {
                problem(valueNode, field, "must be a list of strings");
                continue;
            }
            var i = 0;
            foreach (var item in seq.Children)
            {
                var value = item is YamlScalarNode s ? s.Value ?? "" : null;
                if (value is null || value.Length == 0)
                {
                    problem(item, $"{field}[{i}]", "must be a non-empty string");
                }
                else if (key == "namespaces" && !NamespacePattern().IsMatch(value))
                {
                    problem(item, $"{field}[{i}]", $"\"{value}\" is not a namespace name (lowercase letters, digits and '-', at most 63)");
                }
                else
                {
                    target.Add(value);
                }
                i++;
            }
        }
    }

    private static void CheckKindAndVersion(YamlMappingNode map, string prefix, string kind, string[] versions, Action<YamlNode, string, string> problem)
    {
        if (ScalarOf(map, "kind") is var k && k != kind)
        {
            problem(Child(map, "kind") ?? map, prefix + "kind", $"is \"{k}\", expected {kind}");
        }
        if (ScalarOf(map, "apiVersion") is var v && !versions.Contains(v))
        {
            problem(Child(map, "apiVersion") ?? map, prefix + "apiVersion", $"is \"{v}\", expected one of {string.Join(", ", versions)}");
        }
    }

    private static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? ScalarOf(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;

    [GeneratedRegex(@"^v1\.[0-9]+$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex NamespacePattern();
}

/// <summary>An AdmissionConfiguration is invalid; each problem names file:line and the field path.</summary>
public sealed class PodSecurityConfigException(IReadOnlyList<string> problems)
    : BulwarkException(ErrorKind.Usage, "invalid Pod Security Admission configuration:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
