using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Evidence;

/// <summary>A parsed YAML or JSON file (JSON is read as YAML) with the host path it came from.</summary>
public sealed record StructuredDocument(string Source, YamlNode Root, IReadOnlyList<YamlNode> AllDocuments)
{
    public static StructuredDocument Load(string path, string hostPath) => Parse(File.ReadAllText(path), hostPath);

    public static StructuredDocument Parse(string text, string hostPath)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{hostPath}:{e.Start.Line}: not valid YAML or JSON: {e.Message}");
        }
        var docs = stream.Documents.Select(d => d.RootNode).Where(n => n is not YamlScalarNode { Value: null or "" }).ToList();
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

/// <summary>
/// The JSONPath subset kube-bench catalogs use: {.a.b}, {.a[0].b}, {.a[*].b}, {.a['dotted.key']}.
/// Several matches render space-separated, as kubectl's jsonpath prints them.
/// </summary>
public static class JsonPathQuery
{
    public static IReadOnlyList<YamlNode> Select(YamlNode root, string path)
    {
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1];
        }
        IEnumerable<YamlNode> current = [root];
        var i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] is not ('.' or '['))
                {
                    i++;
                }
                var key = p[start..i];
                if (key.Length > 0)
                {
                    current = current.SelectMany(n => Child(n, key)).ToList();
                }
            }
            else if (p[i] == '[')
            {
                var end = p.IndexOf(']', i);
                if (end < 0)
                {
                    throw new FormatException($"JSONPath '{path}': unclosed '['.");
                }
                var index = p[(i + 1)..end].Trim();
                i = end + 1;
                if (index == "*")
                {
                    current = current.SelectMany(All).ToList();
                }
                else if (index.Length >= 2 && index[0] is '\'' or '"')
                {
                    var key = index[1..^1];
                    current = current.SelectMany(n => Child(n, key)).ToList();
                }
                else if (int.TryParse(index, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                {
                    current = current.SelectMany(node => node is YamlSequenceNode s && n >= 0 && n < s.Children.Count ? [s.Children[n]] : Array.Empty<YamlNode>()).ToList();
                }
                else
                {
                    throw new FormatException($"JSONPath '{path}': unsupported index [{index}]; use [N], [*] or ['key'].");
                }
            }
            else
            {
                throw new FormatException($"JSONPath '{path}': expected '.' or '[' at position {i}.");
            }
        }
        return current.ToList();
    }

    /// <summary>The text a test compares: the scalar's value, or the node as compact JSON.</summary>
    public static string Render(IReadOnlyList<YamlNode> nodes) => string.Join(' ', nodes.Select(Render));

    public static string Render(YamlNode node)
    {
        if (node is YamlScalarNode s)
        {
            return s.Value ?? "";
        }
        if (node is YamlSequenceNode seq && seq.Children.All(c => c is YamlScalarNode))
        {
            // A list of plain values reads as "a,b,c", the form kube-bench's flag values and valid_elements use.
            return string.Join(',', seq.Children.Select(c => ((YamlScalarNode)c).Value));
        }
        var sb = new StringBuilder();
        WriteJson(node, sb);
        return sb.ToString();
    }

    private static readonly HashSet<string> SecretKeys = new(["secret", "token", "password", "client-key-data", "token-file"], StringComparer.OrdinalIgnoreCase);

    private static IEnumerable<YamlNode> Child(YamlNode node, string key) =>
        node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? [v] : [];

    private static IEnumerable<YamlNode> All(YamlNode node) => node switch
    {
        YamlSequenceNode s => s.Children,
        YamlMappingNode m => m.Children.Values,
        _ => [],
    };

    private static void WriteJson(YamlNode node, StringBuilder sb)
    {
        switch (node)
        {
            case YamlMappingNode m:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in m.Children)
                {
                    sb.Append(first ? "" : ",");
                    first = false;
                    var name = ((YamlScalarNode)k).Value ?? "";
                    WriteString(name, sb);
                    sb.Append(':');
                    if (SecretKeys.Contains(name))
                    {
                        // Evidence ends up in reports people pass around: never copy key material into it.
                        WriteString("(redacted)", sb);
                    }
                    else
                    {
                        WriteJson(v, sb);
                    }
                }
                sb.Append('}');
                break;
            case YamlSequenceNode s:
                sb.Append('[');
                for (var i = 0; i < s.Children.Count; i++)
                {
                    sb.Append(i == 0 ? "" : ",");
                    WriteJson(s.Children[i], sb);
                }
                sb.Append(']');
                break;
            case YamlScalarNode scalar:
                var value = scalar.Value ?? "";
                var plain = scalar.Style == ScalarStyle.Plain && (value is "true" or "false" or "null" || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (plain)
                {
                    sb.Append(value);
                }
                else
                {
                    WriteString(value, sb);
                }
                break;
        }
    }

    private static void WriteString(string s, StringBuilder sb) =>
        sb.Append('"').Append(System.Text.Json.JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value).Append('"');
}
