using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Etcd;

/// <summary>One hardened etcd setting from hardening/etcd-config.yaml, with the controls it satisfies.</summary>
public sealed record EtcdHardeningSetting(string Key, string Value, IReadOnlyList<string> Controls, string Why);

/// <summary>The hardened etcd settings (data, embedded): applied last when the config file is rendered.</summary>
public static class EtcdHardening
{
    public const string ResourcePath = "hardening/etcd-config.yaml";

    public static IReadOnlyList<EtcdHardeningSetting> Load(EmbeddedData data) => Parse(data.ReadText(ResourcePath));

    public static IReadOnlyList<EtcdHardeningSetting> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlSequenceNode items)
        {
            throw new InvalidDataException($"{ResourcePath}: expected a list of settings");
        }
        return items.Children.Select(item =>
        {
            var map = item as YamlMappingNode ?? throw new InvalidDataException($"{ResourcePath}:{item.Start.Line}: each setting is a mapping");
            string Text(string name) => map.Children.TryGetValue(new YamlScalarNode(name), out var v) && v is YamlScalarNode s && s.Value is { } t
                ? t : throw new InvalidDataException($"{ResourcePath}:{map.Start.Line}: '{name}' is missing");
            var controls = map.Children.TryGetValue(new YamlScalarNode("controls"), out var c) && c is YamlSequenceNode list
                ? list.Children.OfType<YamlScalarNode>().Select(n => n.Value!).ToList()
                : throw new InvalidDataException($"{ResourcePath}:{map.Start.Line}: 'controls' is missing; every hardened setting names its control");
            return new EtcdHardeningSetting(Text("key"), Text("value"), controls, Text("why"));
        }).ToList();
    }
}
