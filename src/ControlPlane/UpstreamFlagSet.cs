using Bulwark.Config;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>The flags one upstream component accepts at the pinned minor, read from policies/kubernetes/&lt;minor&gt;/&lt;component&gt;.yaml.</summary>
public sealed class UpstreamFlagSet(string component, IReadOnlyDictionary<string, UpstreamFlag> flags, string sourcePath)
{
    public string Component { get; } = component;
    public string SourcePath { get; } = sourcePath;
    public IReadOnlyDictionary<string, UpstreamFlag> Flags { get; } = flags;

    /// <summary>The flag by name (no dashes), or null when this release does not know it at all.</summary>
    public UpstreamFlag? Find(string name) => Flags.TryGetValue(name, out var flag) ? flag : null;

    /// <summary>The closest parsed flag to a misspelt one, for "did you mean".</summary>
    public string? Suggest(string name) =>
        Suggestions.Closest(name, Flags.Values.Where(f => f.Status != UpstreamFlagStatus.Removed).Select(f => f.Name));

    /// <summary>Reads a component file and merges in the flags every component registers (common-flags.yaml, not for etcd).</summary>
    public static UpstreamFlagSet Load(EmbeddedData data, string folder, string component)
    {
        var path = folder + component + ".yaml";
        var flags = new Dictionary<string, UpstreamFlag>(StringComparer.Ordinal);
        if (component != "etcd")
        {
            Read(data, folder + "common-flags.yaml", flags);
        }
        Read(data, path, flags);
        return new UpstreamFlagSet(component, flags, path);
    }

    private static void Read(EmbeddedData data, string path, Dictionary<string, UpstreamFlag> into)
    {
        var root = YamlNodes.ParseSingleMapping(data.ReadText(path), path);
        var reader = new YamlNodes.Reader(path);
        foreach (var (key, value) in Entries(reader, root, "flags"))
        {
            var name = Name(reader, key);
            into[name] = new UpstreamFlag(name, value is YamlScalarNode { Value: { } kind } ? kind : throw reader.Error(value, $"{name}: expected a value kind"), UpstreamFlagStatus.Accepted);
        }
        foreach (var (key, value) in Entries(reader, root, "deprecated"))
        {
            var name = Name(reader, key);
            var map = reader.AsMapping(value, $"deprecated flag {name}");
            var field = reader.OptionalString(map, "config");
            var use = reader.OptionalString(map, "use");
            if (field is null && use is null)
            {
                throw reader.Error(map, $"deprecated flag {name}: say what replaces it (config: FIELD or use: TEXT)");
            }
            into[name] = new UpstreamFlag(name, reader.NonEmptyString(map, "kind"), UpstreamFlagStatus.Deprecated, field, use);
        }
        foreach (var (key, value) in Entries(reader, root, "removed"))
        {
            var name = Name(reader, key);
            var map = reader.AsMapping(value, $"removed flag {name}");
            into[name] = new UpstreamFlag(name, "removed", UpstreamFlagStatus.Removed, null, reader.NonEmptyString(map, "use"), reader.NonEmptyString(map, "in"));
        }
    }

    private static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Entries(YamlNodes.Reader reader, YamlMappingNode root, string section) =>
        reader.OptionalMapping(root, section)?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>();

    private static string Name(YamlNodes.Reader reader, YamlNode key) =>
        key is YamlScalarNode { Value: { Length: > 0 } name } ? name : throw reader.Error(key, "expected a flag name");
}
