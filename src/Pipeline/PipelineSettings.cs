using System.Globalization;
using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Pipeline;

/// <summary>pipeline/stages.yaml: the Trivy stage and the default gate. Unknown keys are errors with file:line.</summary>
public sealed record PipelineSettings(TrivySettings Trivy, Severity Threshold, bool FixedOnly, bool RequireSignatures)
{
    public const string DataFile = "pipeline/stages.yaml";
    public const string IgnoreFile = "pipeline/ignore.yaml";

    public static PipelineSettings Load(EmbeddedData data) => Parse(data.ReadText(DataFile), DataFile);

    public static PipelineSettings Parse(string yaml, string path)
    {
        var reader = new YamlNodes.Reader(path, message => new PipelineException(message));
        var root = reader.ParseMapping(yaml);
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
        var severityText = reader.NonEmptyString(gate, "severity");
        if (!Severities.TryParseStrict(severityText, out var severity))
        {
            throw reader.Error(gate, $"severity '{severityText}' is not one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL");
        }
        return new PipelineSettings(
            new TrivySettings(reader.NonEmptyString(trivy, "binary"), reader.String(trivy, "sha256"), reader.Strings(trivy, "offline-flags"), exitCode,
                reader.Strings(trivy, "db-schema-versions").Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList(),
                TimeSpan.FromHours(reader.Int(trivy, "max-db-age-hours")), TimeSpan.FromSeconds(reader.Int(trivy, "timeout-seconds"))),
            severity, reader.Bool(gate, "fixed-only"), reader.Bool(gate, "require-signatures"));
    }
}
