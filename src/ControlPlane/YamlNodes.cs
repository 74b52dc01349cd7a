using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using Bulwark.Diagnostics;

namespace Bulwark.ControlPlane;

/// <summary>
/// Reading and writing YAML through YamlDotNet's node model (trim-safe), with file:line errors when reading
/// and scalars quoted when writing whenever a plain scalar would be read back as another type.
/// </summary>
internal static class YamlNodes
{
    public static YamlMappingNode ParseSingleMapping(string yaml, string path) => new Reader(path).ParseMapping(yaml);

    /// <summary>
    /// Strict, typed access to a YAML document: a missing, mistyped or unknown field is an error naming the file, line and
    /// field, raised as the owner's exception (a data file's <see cref="ControlPlaneDataException"/> by default).
    /// The one reader of Bulwark's YAML data files and of the manifests and policies it reads back.
    /// </summary>
    public sealed class Reader(string path, Func<string, Exception> error)
    {
        public Reader(string path) : this(path, message => new ControlPlaneDataException(message))
        {
        }

        public Exception Error(YamlNode at, string message) => error($"{path}:{at.Start.Line}: {message}");

        /// <summary>The one document of <paramref name="yaml"/>, which must be a mapping.</summary>
        public YamlMappingNode ParseMapping(string yaml) =>
            ParseOptionalMapping(yaml) ?? throw error($"{path}: expected one YAML document holding a mapping");

        /// <summary>Like <see cref="ParseMapping"/>, but a file without any document (empty, or only comments) is null.</summary>
        public YamlMappingNode? ParseOptionalMapping(string yaml) => ParseDocuments(yaml) switch
        {
            [] => null,
            [YamlMappingNode root] => root,
            _ => throw error($"{path}: expected one YAML document holding a mapping"),
        };

        /// <summary>Every non-empty document of a YAML stream (a file of manifests; JSON reads as YAML too).</summary>
        public IReadOnlyList<YamlNode> ParseDocuments(string yaml)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException e)
            {
                throw error($"{path}:{e.Start.Line}: not valid YAML: {e.Message}");
            }
            return stream.Documents.Select(d => d.RootNode).Where(n => n is not YamlScalarNode { Value: null or "" }).ToList();
        }

        /// <summary>Refuses keys outside <paramref name="allowed"/>: a misspelt key must not be silently ignored.</summary>
        public void OnlyKeys(YamlMappingNode map, params string[] allowed)
        {
            foreach (var key in map.Children.Keys)
            {
                if (key is not YamlScalarNode { Value: { } name } || !allowed.Contains(name))
                {
                    throw Error(key, $"unknown key \"{key}\" (allowed: {string.Join(", ", allowed)})");
                }
            }
        }

        public YamlMappingNode AsMapping(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Error(node, $"expected {what} (a mapping)");

        public YamlNode Node(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : throw Error(map, $"missing \"{key}\"");

        /// <summary>A scalar that must be present and may be empty.</summary>
        public string String(YamlMappingNode map, string key) =>
            Node(map, key) is YamlScalarNode s ? s.Value ?? "" : throw Error(map, $"\"{key}\" must be a scalar");

        public string NonEmptyString(YamlMappingNode map, string key) =>
            String(map, key) is { Length: > 0 } value ? value : throw Error(Node(map, key), $"\"{key}\" must not be empty");

        public string? OptionalString(YamlMappingNode map, string key) =>
            map.Children.ContainsKey(new YamlScalarNode(key)) ? String(map, key) : null;

        public int Int(YamlMappingNode map, string key) =>
            int.TryParse(String(map, key), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Error(Node(map, key), $"\"{key}\" must be a whole number");

        public int? OptionalInt(YamlMappingNode map, string key) =>
            map.Children.ContainsKey(new YamlScalarNode(key)) ? Int(map, key) : null;

        public bool Bool(YamlMappingNode map, string key) => String(map, key) switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error(Node(map, key), $"\"{key}\" must be true or false"),
        };

        public YamlMappingNode Mapping(YamlMappingNode map, string key) => AsMapping(Node(map, key), key);

        public YamlMappingNode? OptionalMapping(YamlMappingNode map, string key) =>
            map.Children.ContainsKey(new YamlScalarNode(key)) ? Mapping(map, key) : null;

        public IReadOnlyList<YamlNode> Sequence(YamlMappingNode map, string key) =>
            Node(map, key) is YamlSequenceNode seq ? seq.Children.ToList() : throw Error(Node(map, key), $"\"{key}\" must be a list");

        /// <summary>A required list whose every entry is a mapping.</summary>
        public IEnumerable<YamlMappingNode> Mappings(YamlMappingNode map, string key) =>
            Sequence(map, key).Select(n => n as YamlMappingNode ?? throw Error(n, $"each entry of \"{key}\" must be a mapping"));

        public IEnumerable<YamlNode> OptionalSequence(YamlMappingNode map, string key) =>
            map.Children.ContainsKey(new YamlScalarNode(key)) ? Sequence(map, key) : [];

        public IReadOnlyList<string> Strings(YamlMappingNode map, string key) =>
            Sequence(map, key).Select(n => n is YamlScalarNode s ? s.Value ?? "" : throw Error(n, $"\"{key}\" must hold strings")).ToList();

        public IReadOnlyList<string>? OptionalStringList(YamlMappingNode map, string key) =>
            map.Children.ContainsKey(new YamlScalarNode(key)) ? Strings(map, key) : null;

        public void Expect(YamlMappingNode map, string key, string expected)
        {
            var actual = String(map, key);
            if (actual != expected)
            {
                throw Error(Node(map, key), $"{key} is \"{actual}\", expected \"{expected}\"");
            }
        }
    }

    // --- writing ---

    public static YamlScalarNode Str(string value) => new(value) { Style = NeedsQuotes(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain };

    public static YamlScalarNode Int(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    public static YamlScalarNode Bool(bool value) => new(value ? "true" : "false");

    public static YamlSequenceNode Strings(IEnumerable<string> values) => new(values.Select(v => (YamlNode)Str(v)));

    /// <summary>Sets <paramref name="value"/> at a dotted path ("a.b.c"), creating the mappings on the way.</summary>
    public static void SetPath(YamlMappingNode root, string dottedPath, YamlNode value)
    {
        var parts = dottedPath.Split('.');
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

    public static YamlMappingNode Map(params (string Key, YamlNode? Value)[] entries)
    {
        var map = new YamlMappingNode();
        foreach (var (key, value) in entries)
        {
            if (value is not null)
            {
                map.Add(new YamlScalarNode(key), value);
            }
        }
        return map;
    }

    public static YamlSequenceNode Seq(params YamlNode[] items) => new(items);

    /// <summary>Serializes documents as a YAML stream ("---" between documents), deterministic and without anchors.</summary>
    public static string Serialize(params YamlNode[] documents) =>
        string.Join("---\n", documents.Select(SerializeOne));

    private static string SerializeOne(YamlNode document)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(writer, new EmitterSettings(2, int.MaxValue, false, 1024, skipAnchorName: false, indentSequences: false));
        new YamlStream(new YamlDocument(document)).Save(emitter, assignAnchors: false);
        var text = writer.ToString();
        // The emitter closes each document with an explicit "..." marker; Kubernetes manifests do without.
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    /// <summary>True when a plain scalar would not read back as this exact string (YAML 1.1 and 1.2 resolvers).</summary>
    private static bool NeedsQuotes(string value)
    {
        if (value.Length == 0 || value != value.Trim())
        {
            return true;
        }
        var lower = value.ToLowerInvariant();
        if (lower is "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n" or "null" or "~" or ".nan" or ".inf" or "-.inf")
        {
            return true;
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            || value.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (",[]{}#&*!|>'\"%@`".Contains(value[0]) || value.StartsWith("---", StringComparison.Ordinal))
        {
            return true;
        }
        // "-", "?" and ":" start a plain scalar unless followed by a space ("--flag=value" stays plain).
        if ("-?:".Contains(value[0]) && (value.Length == 1 || value[1] == ' '))
        {
            return true;
        }
        return value.Contains(": ", StringComparison.Ordinal) || value.Contains(" #", StringComparison.Ordinal) || value.EndsWith(':')
            || value.Any(char.IsControl);
    }
}

/// <summary>A built-in or operator-supplied data file under policies/ is malformed.</summary>
public sealed class ControlPlaneDataException(string message) : BulwarkException(ErrorKind.Bug, message);
