using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>An audit policy (audit.k8s.io/v1 Policy): the default in policies/audit-policy.yaml, or the user's audit-policy-file.</summary>
public sealed record AuditPolicy(IReadOnlyList<string> RuleLevels)
{
    public const string DataFile = "policies/audit-policy.yaml";
    private static readonly string[] Levels = ["None", "Metadata", "Request", "RequestResponse"];

    /// <summary>Checks kind, apiVersion and every rule's level; errors carry file:line and the rule index.</summary>
    public static AuditPolicy Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var r = new YamlNodes.Reader(path);
        r.Expect(root, "apiVersion", "audit.k8s.io/v1");
        r.Expect(root, "kind", "Policy");
        var rules = r.Sequence(root, "rules");
        if (rules.Count == 0)
        {
            throw r.Error(root, "rules: empty; an audit policy needs at least one rule");
        }
        var levels = new List<string>();
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i] as YamlMappingNode ?? throw r.Error(rules[i], $"rules[{i}]: must be a mapping");
            var level = r.String(rule, "level");
            levels.Add(Levels.Contains(level) ? level : throw r.Error(rule, $"rules[{i}].level: \"{level}\" is not one of {string.Join(", ", Levels)}"));
        }
        return new AuditPolicy(levels);
    }
}
