using System.Globalization;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Crypto;

/// <summary>Reads the crypto data files (policies/crypto/*.yaml) through YAML nodes, with file:line in every error.</summary>
internal sealed class DataFile
{
    private DataFile(string path, YamlMappingNode root)
    {
        Path = path;
        Root = root;
    }

    public string Path { get; }
    public YamlMappingNode Root { get; }

    public static DataFile Load(EmbeddedData data, string path) => Parse(path, data.ReadText(path));

    public static DataFile Parse(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"{path}:{e.Start.Line}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException($"{path}: expected a YAML mapping at the top");
        }
        return new DataFile(path, root);
    }

    public string Where(YamlNode node) => $"{Path}:{node.Start.Line}";

    public IEnumerable<YamlMappingNode> Items(YamlMappingNode parent, string key)
    {
        if (Optional(parent, key) is not YamlSequenceNode sequence)
        {
            throw new FormatException($"{Where(parent)}: '{key}' must be a list");
        }
        foreach (var item in sequence)
        {
            yield return item as YamlMappingNode ?? throw new FormatException($"{Where(item)}: each entry of '{key}' must be a mapping");
        }
    }

    public IReadOnlyList<string> Strings(YamlMappingNode parent, string key)
    {
        if (Optional(parent, key) is not YamlSequenceNode sequence)
        {
            throw new FormatException($"{Where(parent)}: '{key}' must be a list of strings");
        }
        return sequence.Select(n => (n as YamlScalarNode)?.Value ?? throw new FormatException($"{Where(n)}: expected a string")).ToList();
    }

    public static YamlNode? Optional(YamlMappingNode parent, string key) =>
        parent.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public string? OptionalString(YamlMappingNode parent, string key) => Optional(parent, key) switch
    {
        null => null,
        YamlScalarNode scalar => scalar.Value ?? "",
        var other => throw new FormatException($"{Where(other)}: '{key}' must be a string"),
    };

    public string String(YamlMappingNode parent, string key) =>
        OptionalString(parent, key) ?? throw new FormatException($"{Where(parent)}: '{key}' is required");

    public bool Bool(YamlMappingNode parent, string key) => String(parent, key) switch
    {
        "true" => true,
        "false" => false,
        var v => throw new FormatException($"{Where(parent)}: '{key}' must be true or false, got \"{v}\""),
    };

    public int? OptionalInt(YamlMappingNode parent, string key) =>
        OptionalString(parent, key) is { } s
            ? int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"{Where(parent)}: '{key}' must be a whole number, got \"{s}\"")
            : null;
}
