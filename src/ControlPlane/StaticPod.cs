using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>A host path the static pod mounts at the same path inside the container.</summary>
public sealed record HostPathMount(string Name, string Path, string Type, bool ReadOnly);

/// <summary>A probe: an exec command or an HTTP GET, with the timings every Bulwark probe uses.</summary>
public sealed record Probe(IReadOnlyList<string>? Exec, string? HttpHost, string? HttpPath, int HttpPort, string? HttpScheme, int FailureThreshold, int PeriodSeconds)
{
    public YamlMappingNode ToYaml() => YamlNodes.Map(
        ("exec", Exec is null ? null : YamlNodes.Map(("command", YamlNodes.Strings(Exec)))),
        ("httpGet", HttpPath is null ? null : YamlNodes.Map(
            ("host", YamlNodes.Str(HttpHost ?? "127.0.0.1")),
            ("path", YamlNodes.Str(HttpPath)),
            ("port", YamlNodes.Int(HttpPort)),
            ("scheme", YamlNodes.Str(HttpScheme ?? "HTTPS")))),
        ("failureThreshold", YamlNodes.Int(FailureThreshold)),
        ("initialDelaySeconds", YamlNodes.Int(10)),
        ("periodSeconds", YamlNodes.Int(PeriodSeconds)),
        ("timeoutSeconds", YamlNodes.Int(15)));

    internal static Probe Parse(YamlMappingNode node, YamlNodes.Reader r)
    {
        var exec = r.OptionalMapping(node, "exec") is { } e ? r.Strings(e, "command") : null;
        var http = r.OptionalMapping(node, "httpGet");
        return new Probe(exec,
            http is null ? null : r.String(http, "host"),
            http is null ? null : r.String(http, "path"),
            http is null ? 0 : r.Int(http, "port"),
            http is null ? null : r.String(http, "scheme"),
            r.Int(node, "failureThreshold"),
            r.Int(node, "periodSeconds"));
    }
}

/// <summary>
/// A static pod manifest (v1 Pod) as Bulwark writes it for a control-plane component. <see cref="ToYaml"/> writes it;
/// <see cref="Parse"/> reads one back, so a manifest round-trips through this typed model.
/// </summary>
public sealed record StaticPod(
    string Name,
    string Namespace,
    string Component,
    string Tier,
    string PriorityClassName,
    bool HostNetwork,
    string Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    Probe? Liveness,
    Probe? Readiness,
    Probe? Startup,
    IReadOnlyList<HostPathMount> Mounts)
{
    public const string HashVariable = "BULWARK_POD_HASH";

    public string ToYaml()
    {
        var container = YamlNodes.Map(
            ("name", YamlNodes.Str(Name)),
            ("image", YamlNodes.Str(Image)),
            ("imagePullPolicy", YamlNodes.Str("IfNotPresent")),
            ("command", YamlNodes.Strings(Command)),
            ("args", YamlNodes.Strings(Args)),
            ("env", new YamlSequenceNode(Env.Select(e => (YamlNode)YamlNodes.Map(("name", YamlNodes.Str(e.Key)), ("value", YamlNodes.Str(e.Value)))))),
            ("livenessProbe", Liveness?.ToYaml()),
            ("readinessProbe", Readiness?.ToYaml()),
            ("startupProbe", Startup?.ToYaml()),
            ("volumeMounts", new YamlSequenceNode(Mounts.Select(m => (YamlNode)YamlNodes.Map(
                ("name", YamlNodes.Str(m.Name)), ("mountPath", YamlNodes.Str(m.Path)), ("readOnly", YamlNodes.Bool(m.ReadOnly)))))));
        var pod = YamlNodes.Map(
            ("apiVersion", YamlNodes.Str("v1")),
            ("kind", YamlNodes.Str("Pod")),
            ("metadata", YamlNodes.Map(
                ("name", YamlNodes.Str(Name)),
                ("namespace", YamlNodes.Str(Namespace)),
                ("labels", YamlNodes.Map(("component", YamlNodes.Str(Component)), ("tier", YamlNodes.Str(Tier)))))),
            ("spec", YamlNodes.Map(
                ("hostNetwork", YamlNodes.Bool(HostNetwork)),
                ("priorityClassName", YamlNodes.Str(PriorityClassName)),
                ("containers", YamlNodes.Seq(container)),
                ("volumes", new YamlSequenceNode(Mounts.Select(m => (YamlNode)YamlNodes.Map(
                    ("name", YamlNodes.Str(m.Name)),
                    ("hostPath", YamlNodes.Map(("path", YamlNodes.Str(m.Path)), ("type", YamlNodes.Str(m.Type)))))))))));
        return YamlNodes.Serialize(pod);
    }

    public static StaticPod Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var r = new YamlNodes.Reader(path);
        r.Expect(root, "apiVersion", "v1");
        r.Expect(root, "kind", "Pod");
        var metadata = r.Mapping(root, "metadata");
        var labels = r.Mapping(metadata, "labels");
        var spec = r.Mapping(root, "spec");
        var containers = r.Sequence(spec, "containers");
        if (containers.Count != 1 || containers[0] is not YamlMappingNode container)
        {
            throw r.Error(spec, "spec.containers: expected exactly one container");
        }
        var volumes = r.Sequence(spec, "volumes").Cast<YamlMappingNode>()
            .ToDictionary(v => r.String(v, "name"), v => r.Mapping(v, "hostPath"), StringComparer.Ordinal);
        var mounts = r.Sequence(container, "volumeMounts").Cast<YamlMappingNode>().Select(m =>
        {
            var name = r.String(m, "name");
            var hostPath = volumes.TryGetValue(name, out var hp) ? hp : throw r.Error(m, $"volumeMount {name} has no volume");
            if (r.String(hostPath, "path") != r.String(m, "mountPath"))
            {
                throw r.Error(m, $"volumeMount {name}: mountPath differs from the host path");
            }
            return new HostPathMount(name, r.String(m, "mountPath"), r.String(hostPath, "type"), r.Bool(m, "readOnly"));
        }).ToList();
        return new StaticPod(
            r.String(metadata, "name"),
            r.String(metadata, "namespace"),
            r.String(labels, "component"),
            r.String(labels, "tier"),
            r.String(spec, "priorityClassName"),
            r.Bool(spec, "hostNetwork"),
            r.String(container, "image"),
            r.Strings(container, "command"),
            r.Strings(container, "args"),
            r.Sequence(container, "env").Cast<YamlMappingNode>().Select(e => new KeyValuePair<string, string>(r.String(e, "name"), r.String(e, "value"))).ToList(),
            r.OptionalMapping(container, "livenessProbe") is { } l ? Probe.Parse(l, r) : null,
            r.OptionalMapping(container, "readinessProbe") is { } rd ? Probe.Parse(rd, r) : null,
            r.OptionalMapping(container, "startupProbe") is { } s ? Probe.Parse(s, r) : null,
            mounts);
    }
}
