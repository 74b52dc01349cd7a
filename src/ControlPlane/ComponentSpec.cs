using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>A control-plane component as described by its data file in policies/components/.</summary>
public sealed record ComponentSpec(
    string Name,
    string Binary,
    string Tier,
    string PriorityClass,
    string Image,
    ReadinessSpec Readiness,
    ProbeSpec? Probes,
    IReadOnlyList<ArgSpec> Args,
    IReadOnlyList<ArgSpec> Guards,
    IReadOnlyList<ConfigFieldSpec> Config,
    string SourcePath)
{
    /// <summary>The component's config file (KubeletConfiguration, KubeSchedulerConfiguration): its path template, apiVersion and kind.</summary>
    public ConfigFileSpec? ConfigFile { get; init; }

    /// <summary>Every entry a user override is checked against: rendered args, config fields with a flag, guards.</summary>
    public IEnumerable<ArgSpec> Checked =>
        Args.Concat(Config.Where(c => c.Flag is not null).Select(c => c.AsArg())).Concat(Guards).Where(a => a.Check is not null);
}

/// <summary>When a component counts as ready: its TCP port accepts connections, or it merely stays up.</summary>
public sealed record ReadinessSpec(string? TcpPortArg)
{
    public static readonly ReadinessSpec Started = new((string?)null);
}

/// <summary>Liveness/readiness/startup probes: an exec command (+ a path appended as --raw) or an HTTP GET.</summary>
public sealed record ProbeSpec(
    IReadOnlyList<string>? Exec,
    string? HttpScheme,
    string? HttpPortArg,
    string? HttpHost,
    string? Liveness,
    string? Readiness,
    string? Startup,
    IReadOnlyList<string> Mounts);

/// <summary>How a value must look for its controls to hold.</summary>
public enum CheckKind
{
    Equals,
    Not,
    Set,
    AtLeast,
    Includes,
    Excludes,
    SubsetOf,
    OneOf,
    Absent,
}

/// <summary>One part of an argument check (an argument can require several, e.g. includes and excludes).</summary>
public sealed record CheckClause(CheckKind Kind, IReadOnlyList<string> Values);

public sealed record ArgCheck(IReadOnlyList<CheckClause> Clauses);

public enum MountKind
{
    None,
    File,
    Directory,
    WritableDirectory,

    /// <summary>A unix socket the component dials (hostPath type Socket): the KMS plugin's, named by the encryption config.</summary>
    Socket,
}

/// <summary>One argument: its value template, when it applies, what it satisfies and how an override is judged.</summary>
public sealed record ArgSpec(
    string Name,
    string? Value,
    bool CisOnly,
    string? When,
    MountKind Mount,
    IReadOnlyList<string> Controls,
    ArgCheck? Check,
    string? Violation,
    int Line)
{
    public bool IsGuard => Value is null;
}

/// <summary>Where a component's config file goes (a path template) and its apiVersion and kind.</summary>
public sealed record ConfigFileSpec(string PathTemplate, string ApiVersion, string Kind);

/// <summary>
/// One config-file field; <see cref="ValueNode"/> keeps the YAML scalar's type (bool, int, string), <see cref="Kind"/>
/// says how a text value becomes YAML (null: a scalar; list, map, threshold-map, taints: see <see cref="ConfigValue"/>).
/// </summary>
public sealed record ConfigFieldSpec(
    string Path,
    YamlScalarNode ValueNode,
    string? Kind,
    MountKind Mount,
    bool CisOnly,
    string? When,
    string? Flag,
    IReadOnlyList<string> Controls,
    ArgCheck? Check,
    string? Violation,
    int Line)
{
    public ArgSpec AsArg() => new(Flag ?? Path, ValueNode.Value ?? "", CisOnly, When, MountKind.None, Controls, Check, Violation, Line);
}
