using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// A component config file (KubeletConfiguration, KubeSchedulerConfiguration) as an ordered list of dotted field paths and their YAML values (scalars keep their type).
/// <see cref="ToYaml"/> nests the paths; <see cref="Parse"/> flattens a file back, so the file round-trips.
/// </summary>
public sealed record ComponentConfig(string ApiVersion, string Kind, IReadOnlyList<KeyValuePair<string, YamlNode>> Fields)
{
    public YamlNode? this[string path] => Fields.LastOrDefault(f => f.Key == path).Value;

    public string? Scalar(string path) => this[path] switch
    {
        YamlScalarNode s => s.Value,
        YamlSequenceNode seq => string.Join(',', seq.Children.OfType<YamlScalarNode>().Select(c => c.Value)),
        _ => null,
    };

    /// <summary>The spec's fields as they apply on this node, then the user's overrides (a kubelet-arg for a config-backed flag) by path.</summary>
    public static ComponentConfig Render(ComponentSpec spec, RenderContext context, IReadOnlyList<KeyValuePair<string, YamlNode>> overrides)
    {
        var file = spec.ConfigFile ?? throw new ControlPlaneDataException($"{spec.SourcePath}: {spec.Name} has no config-file");
        var fields = new List<KeyValuePair<string, YamlNode>>();
        foreach (var field in spec.Config)
        {
            var where = $"{spec.SourcePath}:{field.Line} ({field.Path})";
            if (!context.Applies(field.CisOnly, field.When, where))
            {
                continue;
            }
            var expanded = context.Expand(field.ValueNode.Value ?? "", where);
            YamlNode value = field.Kind is not null
                ? ConfigValue.ToNode(field.Kind, expanded)
                : field.ValueNode.Style is ScalarStyle.DoubleQuoted or ScalarStyle.SingleQuoted
                    ? YamlNodes.Str(expanded)
                    : new YamlScalarNode(expanded);
            fields.Add(new(field.Path, value));
        }
        foreach (var (path, value) in overrides)
        {
            var index = fields.FindIndex(f => f.Key == path);
            if (index >= 0)
            {
                fields[index] = new(path, value);
            }
            else
            {
                fields.Add(new(path, value));
            }
        }
        return new ComponentConfig(file.ApiVersion, file.Kind, fields);
    }

    public string ToYaml()
    {
        var root = YamlNodes.Map(("apiVersion", YamlNodes.Str(ApiVersion)), ("kind", YamlNodes.Str(Kind)));
        foreach (var (path, value) in Fields)
        {
            YamlNodes.SetPath(root, path, value);
        }
        return YamlNodes.Serialize(root);
    }

    public static ComponentConfig Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var reader = new YamlNodes.Reader(path);
        var fields = new List<KeyValuePair<string, YamlNode>>();
        foreach (var (key, value) in root.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name is not ("apiVersion" or "kind"))
            {
                Flatten(name, value, fields);
            }
        }
        return new ComponentConfig(reader.String(root, "apiVersion"), reader.String(root, "kind"), fields);
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
