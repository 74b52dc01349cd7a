using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// Turns a flag's text value into the YAML a config-file field holds, by the value kinds of
/// policies/kubernetes/v1.32/ (so a deprecated kubelet flag can be written into its KubeletConfiguration field).
/// </summary>
public static class ConfigValue
{
    public static readonly IReadOnlyList<string> Kinds = ["list", "map", "threshold-map", "taints"];

    private static readonly string[] Numeric = ["int", "float"];

    public static YamlNode ToNode(string? kind, string value) => kind switch
    {
        "list" => YamlNodes.Strings(Items(value)),
        "map" => Mapping(value, '='),
        "threshold-map" => Mapping(value, '<'),
        "taints" => new YamlSequenceNode(Items(value).Select(Taint)),
        "bool" when value is "true" or "false" => new YamlScalarNode(value),
        _ when kind is not null && Numeric.Contains(kind) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => new YamlScalarNode(value),
        _ => YamlNodes.Str(value),
    };

    private static string[] Items(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static YamlMappingNode Mapping(string value, char separator)
    {
        var map = new YamlMappingNode();
        foreach (var item in Items(value))
        {
            var at = item.IndexOf(separator, StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new ControlPlaneDataException($"\"{item}\" is not key{separator}value");
            }
            map.Add(YamlNodes.Str(item[..at]), YamlNodes.Str(item[(at + 1)..]));
        }
        return map;
    }

    /// <summary>"key=value:Effect" or "key:Effect" as a v1 Taint.</summary>
    private static YamlNode Taint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            throw new ControlPlaneDataException($"taint \"{text}\" is not key=value:Effect");
        }
        var (keyValue, effect) = (text[..colon], text[(colon + 1)..]);
        var equals = keyValue.IndexOf('=', StringComparison.Ordinal);
        var key = equals < 0 ? keyValue : keyValue[..equals];
        var value = equals < 0 ? null : keyValue[(equals + 1)..];
        return YamlNodes.Map(("key", YamlNodes.Str(key)), ("value", value is null ? null : YamlNodes.Str(value)), ("effect", YamlNodes.Str(effect)));
    }
}
