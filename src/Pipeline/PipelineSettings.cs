using System.Globalization;
using Bulwark.Resources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Pipeline;

/// <summary>pipeline/stages.yaml: the Trivy stage and the default gate. Unknown keys are errors with file:line.</summary>
public sealed record PipelineSettings(TrivySettings Trivy, Severity Threshold, bool FixedOnly, bool RequireSignatures)
{
    public const string DataFile = "pipeline/stages.yaml";
    public const string IgnoreFile = "pipeline/ignore.yaml";

    public static PipelineSettings Load(EmbeddedData data) => Parse(data.ReadText(DataFile), DataFile);

    public static PipelineSettings Parse(string yaml, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new PipelineException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        var root = stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode ?? throw new PipelineException($"{path}: expected a mapping");
        var reader = new Reader(path);
        reader.OnlyKeys(root, "trivy", "gate");
        var trivy = reader.Mapping(root, "trivy");
        reader.OnlyKeys(trivy, "binary", "sha256", "offline-flags", "vulnerabilities-exit-code", "db-schema-versions", "max-db-age-hours", "timeout-seconds");
        var gate = reader.Mapping(root, "gate");
        reader.OnlyKeys(gate, "severity", "fixed-only", "require-signatures");
        var exitCode = reader.Int(trivy, "vulnerabilities-exit-code");
        if (exitCode is 0 or 1)
        {
            throw reader.Error(trivy, "vulnerabilities-exit-code must not be 0 or 1 (Trivy exits 1 on fatal errors)");
        }
        var severityText = reader.String(gate, "severity");
        if (!Severities.TryParseStrict(severityText, out var severity))
        {
            throw reader.Error(gate, $"severity '{severityText}' is not one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL");
        }
        return new PipelineSettings(
            new TrivySettings(reader.String(trivy, "binary"), reader.String(trivy, "sha256", allowEmpty: true), reader.Strings(trivy, "offline-flags"), exitCode,
                reader.Strings(trivy, "db-schema-versions").Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList(),
                TimeSpan.FromHours(reader.Int(trivy, "max-db-age-hours")), TimeSpan.FromSeconds(reader.Int(trivy, "timeout-seconds"))),
            severity, reader.Bool(gate, "fixed-only"), reader.Bool(gate, "require-signatures"));
    }

    private sealed class Reader(string path)
    {
        public PipelineException Error(YamlNode at, string message) => new($"{path}:{at.Start.Line}: {message}");

        public void OnlyKeys(YamlMappingNode map, params string[] allowed)
        {
            foreach (var key in map.Children.Keys)
            {
                if (key is not YamlScalarNode { Value: { } name } || !allowed.Contains(name))
                {
                    throw Error(key, $"unknown key '{key}' (allowed: {string.Join(", ", allowed)})");
                }
            }
        }

        private YamlNode Node(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : throw Error(map, $"missing '{key}'");

        public YamlMappingNode Mapping(YamlMappingNode map, string key) => Node(map, key) as YamlMappingNode ?? throw Error(map, $"'{key}' must be a mapping");

        public string String(YamlMappingNode map, string key, bool allowEmpty = false) =>
            Node(map, key) is YamlScalarNode { Value: { } v } && (allowEmpty || v.Length > 0) ? v : throw Error(map, $"'{key}' must be a non-empty string");

        public int Int(YamlMappingNode map, string key) =>
            int.TryParse(String(map, key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Error(Node(map, key), $"'{key}' must be a whole number");

        public bool Bool(YamlMappingNode map, string key) => String(map, key) switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error(Node(map, key), $"'{key}' must be true or false"),
        };

        public IReadOnlyList<string> Strings(YamlMappingNode map, string key) =>
            Node(map, key) is YamlSequenceNode seq
                ? seq.Children.Select(c => c is YamlScalarNode { Value: { } v } ? v : throw Error(c, $"'{key}' holds strings")).ToList()
                : throw Error(map, $"'{key}' must be a list");
    }
}
