using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>Reads the component data files (policies/components/*.yaml) into <see cref="ComponentSpec"/>s.</summary>
public static class ComponentSpecLoader
{
    public const string Folder = "policies/components/";

    /// <summary>The components, in the order their files are named here (also the launch order of those launched).</summary>
    public static readonly IReadOnlyList<string> Names = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"];

    public static ComponentSet LoadAll(EmbeddedData data) =>
        new(Names.Select(name => Load(data, Folder + name + ".yaml")).ToDictionary(s => s.Name, StringComparer.Ordinal));

    public static ComponentSpec Load(EmbeddedData data, string path) => Parse(data.ReadText(path), path);

    public static ComponentSpec Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var reader = new YamlNodes.Reader(path);
        var readinessNode = reader.OptionalMapping(root, "readiness");
        var readiness = readinessNode is null || reader.OptionalString(readinessNode, "tcp-port-arg") is not { } portArg
            ? ReadinessSpec.Started
            : new ReadinessSpec(portArg);
        return new ComponentSpec(
            reader.NonEmptyString(root, "component"),
            reader.NonEmptyString(root, "binary"),
            reader.NonEmptyString(root, "tier"),
            reader.OptionalString(root, "priority-class") ?? "system-node-critical",
            reader.OptionalString(root, "image") ?? "",
            readiness,
            reader.OptionalMapping(root, "probes") is { } probes ? ReadProbes(reader, probes) : null,
            reader.OptionalSequence(root, "args").Select(n => ReadArg(reader, n, guard: false)).ToList(),
            reader.OptionalSequence(root, "guards").Select(n => ReadArg(reader, n, guard: true)).ToList(),
            reader.OptionalSequence(root, "config").Select(n => ReadConfigField(reader, n)).ToList(),
            path)
        {
            ConfigFile = reader.OptionalString(root, "config-file") is { } file
                ? new ConfigFileSpec(file, reader.NonEmptyString(root, "config-api-version"), reader.NonEmptyString(root, "config-kind"))
                : null,
        };
    }

    private static ProbeSpec ReadProbes(YamlNodes.Reader reader, YamlMappingNode node)
    {
        var http = reader.OptionalMapping(node, "http");
        return new ProbeSpec(
            reader.OptionalStringList(node, "exec"),
            http is null ? null : reader.NonEmptyString(http, "scheme"),
            http is null ? null : reader.NonEmptyString(http, "port-arg"),
            http is null ? null : reader.OptionalString(http, "host"),
            reader.OptionalString(node, "liveness"),
            reader.OptionalString(node, "readiness"),
            reader.OptionalString(node, "startup"),
            reader.OptionalStringList(node, "mounts") ?? []);
    }

    private static ArgSpec ReadArg(YamlNodes.Reader reader, YamlNode node, bool guard)
    {
        var map = reader.AsMapping(node, "an argument entry");
        var name = reader.NonEmptyString(map, "name");
        var value = guard ? null : reader.String(map, "value");
        var mount = ReadMount(reader, map);
        var (controls, check, violation) = ReadControls(reader, map);
        return new ArgSpec(name, value, reader.OptionalString(map, "profile") == "cis", reader.OptionalString(map, "when"),
            mount, controls, check, violation, (int)map.Start.Line);
    }

    private static MountKind ReadMount(YamlNodes.Reader reader, YamlMappingNode map) => reader.OptionalString(map, "mount") switch
    {
        null => MountKind.None,
        "file" => MountKind.File,
        "dir" => MountKind.Directory,
        "dir-rw" => MountKind.WritableDirectory,
        var other => throw reader.Error(map, $"mount: unknown kind \"{other}\" (expected file, dir or dir-rw)"),
    };

    private static ConfigFieldSpec ReadConfigField(YamlNodes.Reader reader, YamlNode node)
    {
        var map = reader.AsMapping(node, "a config entry");
        var path = reader.NonEmptyString(map, "path");
        if (!map.Children.TryGetValue(new YamlScalarNode("value"), out var valueNode) || valueNode is not YamlScalarNode scalar)
        {
            throw reader.Error(map, $"config entry {path}: value must be a scalar");
        }
        var (controls, check, violation) = ReadControls(reader, map);
        var kind = reader.OptionalString(map, "kind");
        if (kind is not null && !ConfigValue.Kinds.Contains(kind))
        {
            throw reader.Error(map, $"config entry {path}: unknown kind \"{kind}\" (expected {string.Join(", ", ConfigValue.Kinds)})");
        }
        return new ConfigFieldSpec(path, scalar, kind, ReadMount(reader, map), reader.OptionalString(map, "profile") == "cis",
            reader.OptionalString(map, "when"), reader.OptionalString(map, "flag"), controls, check, violation, (int)map.Start.Line);
    }

    private static (IReadOnlyList<string> Controls, ArgCheck? Check, string? Violation) ReadControls(YamlNodes.Reader reader, YamlMappingNode map)
    {
        var controls = reader.OptionalStringList(map, "controls") ?? [];
        ArgCheck? check = null;
        if (map.Children.TryGetValue(new YamlScalarNode("check"), out var checkNode))
        {
            check = checkNode switch
            {
                YamlScalarNode { Value: "set" } => new ArgCheck([new CheckClause(CheckKind.Set, [])]),
                YamlScalarNode { Value: "absent" } => new ArgCheck([new CheckClause(CheckKind.Absent, [])]),
                YamlMappingNode clauses => new ArgCheck(clauses.Children.Select(c => ReadClause(reader, map, c.Key, c.Value)).ToList()),
                _ => throw reader.Error(map, "check: expected set, absent or a mapping such as {equals: \"false\"}"),
            };
        }
        if (controls.Count > 0 && check is null && !map.Children.ContainsKey(new YamlScalarNode("value")))
        {
            throw reader.Error(map, "an entry with controls but no value needs a check");
        }
        return (controls, check, reader.OptionalString(map, "violation"));
    }

    private static CheckClause ReadClause(YamlNodes.Reader reader, YamlMappingNode owner, YamlNode key, YamlNode value)
    {
        var kind = ((YamlScalarNode)key).Value switch
        {
            "equals" => CheckKind.Equals,
            "not" => CheckKind.Not,
            "at-least" => CheckKind.AtLeast,
            "includes" => CheckKind.Includes,
            "excludes" => CheckKind.Excludes,
            "subset-of" => CheckKind.SubsetOf,
            "one-of" => CheckKind.OneOf,
            var other => throw reader.Error(owner, $"check: unknown kind \"{other}\""),
        };
        IReadOnlyList<string> values = value switch
        {
            YamlScalarNode s => [s.Value ?? ""],
            YamlSequenceNode seq => seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList(),
            _ => throw reader.Error(owner, "check values must be a scalar or a list"),
        };
        return new CheckClause(kind, values);
    }
}

/// <summary>All component specs by name.</summary>
public sealed class ComponentSet(IReadOnlyDictionary<string, ComponentSpec> byName)
{
    public ComponentSpec this[string name] => byName[name];

    public IEnumerable<ComponentSpec> All => ComponentSpecLoader.Names.Select(n => byName[n]);
}
