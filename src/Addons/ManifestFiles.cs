using YamlDotNet.RepresentationModel;

namespace Bulwark.Addons;

/// <summary>The manifests in server/manifests: which files count (and which a <c>.skip</c> file turns off), and their documents.</summary>
public static class ManifestFiles
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>Manifest files in name order, without those that have a <c>&lt;file&gt;.skip</c> beside them (RKE2's way to stop one).</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Where(f => Extensions.Contains(Path.GetExtension(f)) && !File.Exists(f + ".skip"))
                .Order(StringComparer.Ordinal).ToList()
            : [];

    public static IEnumerable<string> Skipped(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.skip").Select(f => f[..^".skip".Length]).Where(File.Exists).Order(StringComparer.Ordinal)
            : [];

    /// <summary>The non-empty mapping documents of a file, each with its first line.</summary>
    public static IReadOnlyList<(YamlMappingNode Document, int Line)> Documents(string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(file)));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new AddonException($"{file}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        var documents = new List<(YamlMappingNode, int)>();
        foreach (var document in stream.Documents)
        {
            switch (document.RootNode)
            {
                case YamlMappingNode map:
                    documents.Add((map, (int)map.Start.Line));
                    break;
                case YamlScalarNode { Value: null or "" }:
                    break;
                default:
                    throw new AddonException($"{file}:{document.RootNode.Start.Line}: a manifest document must be a mapping (an object with apiVersion and kind)");
            }
        }
        return documents;
    }

    public static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}
