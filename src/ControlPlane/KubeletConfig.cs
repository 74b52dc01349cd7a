using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// A KubeletConfiguration as an ordered list of dotted field paths and their YAML values (scalars keep their type).
/// <see cref="ToYaml"/> nests the paths; <see cref="Parse"/> flattens a file back, so the file round-trips.
/// </summary>
public sealed record KubeletConfig(string ApiVersion, string Kind, IReadOnlyList<KeyValuePair<string, YamlNode>> Fields)
{
    public const string ExpectedApiVersion = "kubelet.config.k8s.io/v1beta1";
    public const string ExpectedKind = "KubeletConfiguration";

    public YamlNode? this[string path] => Fields.LastOrDefault(f => f.Key == path).Value;

    public string? Scalar(string path) => this[path] switch
    {
        YamlScalarNode s => s.Value,
        YamlSequenceNode seq => string.Join(',', seq.Children.OfType<YamlScalarNode>().Select(c => c.Value)),
        _ => null,
    };

    public static KubeletConfig Render(ComponentSpec spec, RenderContext context)
    {
        var fields = new List<KeyValuePair<string, YamlNode>>();
        foreach (var field in spec.Config)
        {
            var where = $"{spec.SourcePath}:{field.Line} ({field.Path})";
            if (!context.Applies(field.CisOnly, field.When, where))
            {
                continue;
            }
            var expanded = context.Expand(field.ValueNode.Value ?? "", where);
            YamlNode value = field.IsList
                ? YamlNodes.Strings(expanded.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                : field.ValueNode.Style is ScalarStyle.DoubleQuoted or ScalarStyle.SingleQuoted
                    ? YamlNodes.Str(expanded)
                    : new YamlScalarNode(expanded);
            fields.Add(new(field.Path, value));
        }
        return new KubeletConfig(ExpectedApiVersion, ExpectedKind, fields);
    }

    public string ToYaml()
    {
        var root = YamlNodes.Map(("apiVersion", YamlNodes.Str(ApiVersion)), ("kind", YamlNodes.Str(Kind)));
        foreach (var (path, value) in Fields)
        {
            var parts = path.Split('.');
            var map = root;
            foreach (var part in parts[..^1])
            {
                var key = new YamlScalarNode(part);
                if (!map.Children.TryGetValue(key, out var child))
                {
                    child = new YamlMappingNode();
                    map.Add(key, child);
                }
                map = (YamlMappingNode)child;
            }
            map.Children[new YamlScalarNode(parts[^1])] = value;
        }
        return YamlNodes.Serialize(root);
    }

    public static KubeletConfig Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var reader = new ManifestReader(path);
        var fields = new List<KeyValuePair<string, YamlNode>>();
        foreach (var (key, value) in root.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name is not ("apiVersion" or "kind"))
            {
                Flatten(name, value, fields);
            }
        }
        return new KubeletConfig(reader.String(root, "apiVersion"), reader.String(root, "kind"), fields);
    }

    private static void Flatten(string prefix, YamlNode node, List<KeyValuePair<string, YamlNode>> fields)
    {
        if (node is YamlMappingNode map)
        {
            foreach (var (key, value) in map.Children)
            {
                Flatten(prefix + "." + ((YamlScalarNode)key).Value, value, fields);
            }
        }
        else
        {
            fields.Add(new(prefix, node));
        }
    }
}
