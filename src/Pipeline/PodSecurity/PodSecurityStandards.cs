using Bulwark.ControlPlane;
using Bulwark.Resources;
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
        var r = new YamlNodes.Reader(path, message => new PipelineException(message));
        var root = r.ParseMapping(yaml);
        r.OnlyKeys(root, "version", "kubernetes", "container-lists", "workloads", "rules");
        var workloads = r.Mapping(root, "workloads");
        var rules = new List<PodSecurityRule>();
        foreach (var rule in r.Mappings(root, "rules"))
        {
            r.OnlyKeys(rule, "id", "level", "title", "linux-only", "replaces", "checks");
            var levelText = r.NonEmptyString(rule, "level");
            var level = levelText switch
            {
                "baseline" => PodSecurityLevel.Baseline,
                "restricted" => PodSecurityLevel.Restricted,
                _ => throw r.Error(rule, $"level '{levelText}' must be baseline or restricted"),
            };
            var checks = new List<PodSecurityCheck>();
            foreach (var check in r.Mappings(rule, "checks"))
            {
                r.OnlyKeys(check, "path", "allowed", "forbidden", "must-contain", "allowed-keys", "fallback", "required");
                checks.Add(new PodSecurityCheck(r.NonEmptyString(check, "path"))
                {
                    Allowed = r.OptionalStringList(check, "allowed"),
                    Forbidden = r.OptionalStringList(check, "forbidden"),
                    MustContain = r.OptionalString(check, "must-contain"),
                    AllowedKeys = r.OptionalStringList(check, "allowed-keys"),
                    Fallback = r.OptionalString(check, "fallback"),
                    Required = r.OptionalString(check, "required") == "true",
                });
            }
            rules.Add(new PodSecurityRule(r.NonEmptyString(rule, "id"), level, r.NonEmptyString(rule, "title"), r.OptionalString(rule, "linux-only") == "true", checks)
            {
                Replaces = r.OptionalString(rule, "replaces"),
            });
        }
        return new PodSecurityStandards(r.NonEmptyString(root, "version"), r.NonEmptyString(root, "kubernetes"), r.OptionalStringList(root, "container-lists") ?? [],
            workloads.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (p.Value as YamlScalarNode)?.Value ?? throw r.Error(p.Value, "a pod template path must be a string")),
            rules);
    }
}
