using Bulwark.ControlPlane;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Evidence;

/// <summary>A parsed YAML or JSON file (JSON is read as YAML) with the host path it came from.</summary>
public sealed record StructuredDocument(string Source, YamlNode Root, IReadOnlyList<YamlNode> AllDocuments)
{
    public static StructuredDocument Load(string path, string hostPath) => Parse(File.ReadAllText(path), hostPath);

    public static StructuredDocument Parse(string text, string hostPath)
    {
        var docs = new YamlNodes.Reader(hostPath, message => new InvalidDataException(message)).ParseDocuments(text);
        return new StructuredDocument(hostPath, docs.Count > 0 ? docs[0] : new YamlMappingNode(), docs);
    }
}

/// <summary>Parsed files for one audit run: many checks read the same kubelet config or PSA file.</summary>
public sealed class DocumentCache
{
    private readonly Dictionary<string, StructuredDocument> _documents = new(StringComparer.Ordinal);

    public StructuredDocument Load(string path, string hostPath)
    {
        if (!_documents.TryGetValue(path, out var doc))
        {
            doc = StructuredDocument.Load(path, hostPath);
            _documents[path] = doc;
        }
        return doc;
    }
}
