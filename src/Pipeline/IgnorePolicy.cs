using System.Globalization;
using Bulwark.ControlPlane;
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
        var r = new YamlNodes.Reader(path, message => new PipelineException(message));
        if (r.ParseOptionalMapping(text) is not { } root)
        {
            return [];
        }
        r.OnlyKeys(root, "vulnerabilities");
        var rules = new List<IgnoreRule>();
        foreach (var node in r.OptionalSequence(root, "vulnerabilities"))
        {
            var at = $"{path}:{node.Start.Line}";
            var entry = node as YamlMappingNode ?? throw r.Error(node, "each entry is a mapping with id and statement");
            r.OnlyKeys(entry, EntryKeys);
            var id = r.OptionalString(entry, "id") ?? throw r.Error(entry, "entry without 'id'");
            var statement = r.OptionalString(entry, "statement");
            if (string.IsNullOrWhiteSpace(statement))
            {
                throw r.Error(entry, $"{id} has no 'statement'; say why the vulnerability is accepted (e.g. \"not reachable: the binary is not shipped\")");
            }
            var expires = r.OptionalString(entry, "expired-at") is { } date ? ParseDate(date, at) : (DateOnly?)null;
            rules.Add(new IgnoreRule(id, statement, expires, r.OptionalStringList(entry, "purls") ?? [], r.OptionalStringList(entry, "paths") ?? [], at));
        }
        return rules;
    }

    private static DateOnly ParseDate(string text, string at) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new PipelineException($"{at}: '{text}' is not a date; write YYYY-MM-DD");
}
