using Bulwark.Resources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// policies/pod-security/standards.yaml: the Pod Security Standards rules as data, where each kind keeps its pod template,
/// and the container lists a "spec.containers[*]" path stands for. Unknown keys are errors with file:line.
/// </summary>
public sealed record PodSecurityStandards(string Version, string Kubernetes, IReadOnlyList<string> ContainerLists,
    IReadOnlyDictionary<string, string> Workloads, IReadOnlyList<PodSecurityRule> Rules)
{
    public const string DataFile = "policies/pod-security/standards.yaml";

    public static PodSecurityStandards Load(EmbeddedData data) => Parse(data.ReadText(DataFile), DataFile);

    /// <summary>The rules evaluated at a level: restricted adds its rules to baseline's, dropping the baseline rules it tightens.</summary>
    public IReadOnlyList<PodSecurityRule> At(PodSecurityLevel level)
    {
        var rules = Rules.Where(r => r.Level <= level).ToList();
        var replaced = rules.Select(r => r.Replaces).OfType<string>().ToHashSet();
        return rules.Where(r => !replaced.Contains(r.Id)).ToList();
    }

    public static PodSecurityStandards Parse(string yaml, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new PipelineException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        PipelineException Error(YamlNode at, string message) => new($"{path}:{at.Start.Line}: {message}");
        var root = stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode ?? throw new PipelineException($"{path}: expected a mapping");
        OnlyKeys(root, Error, "version", "kubernetes", "container-lists", "workloads", "rules");
        var workloads = Get(root, "workloads", Error) as YamlMappingNode ?? throw Error(root, "'workloads' must be a mapping of kind to pod template path");
        var rules = new List<PodSecurityRule>();
        foreach (var node in Get(root, "rules", Error) as YamlSequenceNode ?? throw Error(root, "'rules' must be a list"))
        {
            var rule = node as YamlMappingNode ?? throw Error(node, "a rule must be a mapping");
            OnlyKeys(rule, Error, "id", "level", "title", "linux-only", "replaces", "checks");
            var levelText = Text(rule, "level", Error);
            var level = levelText switch
            {
                "baseline" => PodSecurityLevel.Baseline,
                "restricted" => PodSecurityLevel.Restricted,
                _ => throw Error(rule, $"level '{levelText}' must be baseline or restricted"),
            };
            var checks = new List<PodSecurityCheck>();
            foreach (var c in Get(rule, "checks", Error) as YamlSequenceNode ?? throw Error(rule, "'checks' must be a list"))
            {
                var check = c as YamlMappingNode ?? throw Error(c, "a check must be a mapping");
                OnlyKeys(check, Error, "path", "allowed", "forbidden", "must-contain", "allowed-keys", "fallback", "required");
                checks.Add(new PodSecurityCheck(Text(check, "path", Error))
                {
                    Allowed = List(check, "allowed", Error),
                    Forbidden = List(check, "forbidden", Error),
                    MustContain = Optional(check, "must-contain"),
                    AllowedKeys = List(check, "allowed-keys", Error),
                    Fallback = Optional(check, "fallback"),
                    Required = Optional(check, "required") == "true",
                });
            }
            rules.Add(new PodSecurityRule(Text(rule, "id", Error), level, Text(rule, "title", Error), Optional(rule, "linux-only") == "true", checks)
            {
                Replaces = Optional(rule, "replaces"),
            });
        }
        return new PodSecurityStandards(Text(root, "version", Error), Text(root, "kubernetes", Error), List(root, "container-lists", Error) ?? [],
            workloads.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (p.Value as YamlScalarNode)?.Value ?? throw Error(p.Value, "a pod template path must be a string")),
            rules);
    }

    private static void OnlyKeys(YamlMappingNode map, Func<YamlNode, string, PipelineException> error, params string[] allowed)
    {
        foreach (var key in map.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name } || !allowed.Contains(name))
            {
                throw error(key, $"unknown key '{key}' (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    private static YamlNode Get(YamlMappingNode map, string key, Func<YamlNode, string, PipelineException> error) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : throw error(map, $"missing '{key}'");

    private static string? Optional(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;

    private static string Text(YamlMappingNode map, string key, Func<YamlNode, string, PipelineException> error) =>
        Get(map, key, error) is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw error(map, $"'{key}' must be a non-empty string");

    private static List<string>? List(YamlMappingNode map, string key, Func<YamlNode, string, PipelineException> error) =>
        !map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? null
        : node is YamlSequenceNode items ? items.Select(i => (i as YamlScalarNode)?.Value ?? throw error(i, $"'{key}' items must be strings")).ToList()
        : throw error(node, $"'{key}' must be a list");
}
