using Bulwark.ControlPlane;
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
    public static IReadOnlyList<(YamlMappingNode Document, int Line)> Documents(string file) =>
        new YamlNodes.Reader(file, message => new AddonException(message)).ParseDocuments(File.ReadAllText(file))
            .Select(document => document is YamlMappingNode map
                ? (map, (int)map.Start.Line)
                : throw new AddonException($"{file}:{document.Start.Line}: a manifest document must be a mapping (an object with apiVersion and kind)"))
            .ToList();

    public static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}
