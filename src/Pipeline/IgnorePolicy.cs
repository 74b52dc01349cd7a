using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Pipeline;

/// <summary>
/// Reads accepted vulnerabilities: Trivy's <c>.trivyignore</c> (one ID per line, optional <c>exp:YYYY-MM-DD</c>) and
/// the YAML form (<c>vulnerabilities:</c> entries with <c>id</c>, a mandatory <c>statement</c>, <c>expired-at</c>,
/// <c>purls</c>, <c>paths</c>). Errors name file:line.
/// </summary>
public static class IgnorePolicy
{
    private static readonly string[] EntryKeys = ["id", "statement", "expired-at", "purls", "paths"];

    public static IReadOnlyList<IgnoreRule> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new PipelineException($"{path}: no such ignore file");
        }
        var text = File.ReadAllText(path);
        return path.EndsWith(".yaml", StringComparison.Ordinal) || path.EndsWith(".yml", StringComparison.Ordinal)
            ? ParseYaml(text, path)
            : ParseTrivyIgnore(text, path);
    }

    public static IReadOnlyList<IgnoreRule> ParseTrivyIgnore(string text, string path)
    {
        var rules = new List<IgnoreRule>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            var hash = line.IndexOf('#');
            var comment = hash >= 0 ? line[(hash + 1)..].Trim() : null;
            line = hash >= 0 ? line[..hash].Trim() : line;
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            DateOnly? expires = null;
            foreach (var field in fields.Skip(1))
            {
                if (!field.StartsWith("exp:", StringComparison.Ordinal))
                {
                    throw new PipelineException($"{path}:{i + 1}: unexpected '{field}'; a line is an ID optionally followed by exp:YYYY-MM-DD");
                }
                expires = ParseDate(field[4..], $"{path}:{i + 1}");
            }
            rules.Add(new IgnoreRule(fields[0], comment, expires, [], [], $"{path}:{i + 1}"));
        }
        return rules;
    }

    public static IReadOnlyList<IgnoreRule> ParseYaml(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new PipelineException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count == 0)
        {
            return [];
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new PipelineException($"{path}:1: expected a mapping with a 'vulnerabilities' list");
        }
        foreach (var key in root.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: "vulnerabilities" })
            {
                throw new PipelineException($"{path}:{key.Start.Line}: unknown key '{key}'; the file holds one list, 'vulnerabilities'");
            }
        }
        if (!root.Children.TryGetValue(new YamlScalarNode("vulnerabilities"), out var list))
        {
            return [];
        }
        if (list is not YamlSequenceNode entries)
        {
            throw new PipelineException($"{path}:{list.Start.Line}: 'vulnerabilities' must be a list");
        }
        var rules = new List<IgnoreRule>();
        foreach (var node in entries)
        {
            var at = $"{path}:{node.Start.Line}";
            if (node is not YamlMappingNode entry)
            {
                throw new PipelineException($"{at}: each entry is a mapping with id and statement");
            }
            foreach (var key in entry.Children.Keys)
            {
                if (key is not YamlScalarNode { Value: { } name } || !EntryKeys.Contains(name))
                {
                    throw new PipelineException($"{path}:{key.Start.Line}: unknown key '{key}' (allowed: {string.Join(", ", EntryKeys)})");
                }
            }
            var id = Scalar(entry, "id", path) ?? throw new PipelineException($"{at}: entry without 'id'");
            var statement = Scalar(entry, "statement", path);
            if (string.IsNullOrWhiteSpace(statement))
            {
                throw new PipelineException($"{at}: {id} has no 'statement'; say why the vulnerability is accepted (e.g. \"not reachable: the binary is not shipped\")");
            }
            var expires = Scalar(entry, "expired-at", path) is { } date ? ParseDate(date, at) : (DateOnly?)null;
            rules.Add(new IgnoreRule(id, statement, expires, Strings(entry, "purls", path), Strings(entry, "paths", path), at));
        }
        return rules;
    }

    private static string? Scalar(YamlMappingNode map, string key, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node)
            ? node is YamlScalarNode s ? s.Value : throw new PipelineException($"{path}:{node.Start.Line}: '{key}' must be a string")
            : null;

    private static IReadOnlyList<string> Strings(YamlMappingNode map, string key, string path) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node)
            ? node is YamlSequenceNode seq
                ? seq.Children.Select(c => c is YamlScalarNode { Value: { } v } ? v : throw new PipelineException($"{path}:{c.Start.Line}: '{key}' holds strings")).ToList()
                : throw new PipelineException($"{path}:{node.Start.Line}: '{key}' must be a list")
            : [];

    private static DateOnly ParseDate(string text, string at) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new PipelineException($"{at}: '{text}' is not a date; write YYYY-MM-DD");
}
