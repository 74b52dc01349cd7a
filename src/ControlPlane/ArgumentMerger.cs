using Bulwark.Config;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// A component's final command line: name/value pairs in order, and the argv form "--name=value"; and the user's
/// values for deprecated config-backed flags, which go into the component's config file by field path instead.
/// </summary>
public sealed record ComponentArgs(ComponentSpec Spec, IReadOnlyList<KeyValuePair<string, string>> Args)
{
    public IReadOnlyList<KeyValuePair<string, YamlNode>> ConfigOverrides { get; init; } = [];

    public IReadOnlyList<string> Argv => Args.Select(a => $"--{a.Key}={a.Value}").ToList();

    public string? Get(string name) => Args.LastOrDefault(a => a.Key == name) is { Key: not null } found ? found.Value : null;
}

/// <summary>A user argument that breaks a control: refused under the CIS profile, a warning without it.</summary>
public sealed record ArgViolation(string Component, string ConfigKey, string Where, string Name, string Value, string Requirement, IReadOnlyList<string> Controls)
{
    /// <summary>Where the argument was set (file:line, flag or environment variable), the setting, the controls it breaks and what they require.</summary>
    public string Message =>
        $"{Where}: {ConfigKey}: \"{Name}={Value}\" breaks {string.Join(", ", Controls)}: --{Name} {Requirement}";
}

/// <summary>Merges a component's arguments: data defaults, then the profile's settings, then the user's *-arg entries.</summary>
public static class ArgumentMerger
{
    public static ListKey UserKeyFor(string component) => component switch
    {
        "kube-apiserver" => ConfigKeys.KubeApiserverArg,
        "kube-controller-manager" => ConfigKeys.KubeControllerManagerArg,
        "kube-scheduler" => ConfigKeys.KubeSchedulerArg,
        "kubelet" => ConfigKeys.KubeletArg,
        "kube-proxy" => ConfigKeys.KubeProxyArg,
        "etcd" => ConfigKeys.EtcdArg,
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, "no user argument key for this component"),
    };

    /// <summary>Merges and judges; violations are returned, the caller decides (error under CIS, warning otherwise).</summary>
    public static (ComponentArgs Args, IReadOnlyList<ArgViolation> Violations) Merge(ComponentSpec spec, RenderContext context)
    {
        var args = new List<KeyValuePair<string, string>>();
        foreach (var arg in spec.Args)
        {
            var where = $"{spec.SourcePath}:{arg.Line} ({arg.Name})";
            if (context.Applies(arg.CisOnly, arg.When, where))
            {
                Set(args, arg.Name, context.Expand(arg.Value!, where));
            }
        }
        var key = UserKeyFor(spec.Name);
        var violations = new List<ArgViolation>();
        var overrides = new List<KeyValuePair<string, YamlNode>>();
        var flags = KubernetesContract.BuiltIn[spec.Name];
        foreach (var raw in context.Config.Get(key))
        {
            var (name, value) = Split(raw);
            foreach (var entry in spec.Checked.Where(e => e.Name == name && (e.IsGuard || context.Applies(e.CisOnly, e.When, spec.SourcePath))))
            {
                if (ArgCheckEvaluator.Evaluate(entry.Check!, value, context, $"{spec.SourcePath}:{entry.Line}") is { } requirement)
                {
                    violations.Add(new ArgViolation(spec.Name, key.Name, context.Config.SourceOf(key).Where, name, value, requirement, entry.Controls));
                }
            }
            // A deprecated flag whose config-file field Bulwark writes goes there (v1.32 would warn, and later drop it).
            if (spec.ConfigFile is not null && flags.Find(name) is { Status: UpstreamFlagStatus.Deprecated, ConfigField: { } field } flag)
            {
                overrides.Add(new(field, ConfigValue.ToNode(flag.Kind, value)));
                continue;
            }
            Set(args, name, value);
        }
        return (new ComponentArgs(spec, args) { ConfigOverrides = overrides }, violations);
    }

    /// <summary>"name=value" (leading dashes tolerated) into its parts; a bare name has an empty value.</summary>
    public static (string Name, string Value) Split(string raw)
    {
        var equals = raw.IndexOf('=', StringComparison.Ordinal);
        var (name, value) = equals < 0 ? (raw, "") : (raw[..equals], raw[(equals + 1)..]);
        return (name.TrimStart('-'), value);
    }

    public static string NameOf(string raw) => Split(raw).Name;

    private static void Set(List<KeyValuePair<string, string>> args, string name, string value)
    {
        var index = args.FindIndex(a => a.Key == name);
        if (index >= 0)
        {
            args[index] = new(name, value);
        }
        else
        {
            args.Add(new(name, value));
        }
    }
}
