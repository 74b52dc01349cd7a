using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Compliance.Reports;

/// <summary>
/// The JSON checklist of STIG Viewer 3 (.cklb): target data, the STIG, and a rule per STIG rule with its status
/// (not_a_finding, open, not_applicable, not_reviewed) and finding details. Texts as in the .ckl.
/// </summary>
public static class CklbReport
{
    public static string Render(AuditReport report, StigBenchmark? disa)
    {
        var stig = report.Stig
            ?? throw new InvalidOperationException("a checklist needs STIG results: run the audit with --benchmark stig or rke2-stig");
        var stigId = disa?.Id ?? stig.StigBenchmarkId!;
        var stigUuid = CklReport.DeterministicUuid(stigId, stig.Version);
        var time = report.Finished;
        var rules = stig.Checks.Select(check =>
        {
            var official = disa?.Rules.GetValueOrDefault(check.Id);
            var ruleId = official?.RuleId ?? check.Stig?.RuleId ?? "";
            return new CklbRule(
                CklReport.DeterministicUuid(stigId + "/" + check.Id, stig.Version), stigUuid, null, null,
                check.Id, ruleId, ruleId, official?.Weight ?? "10.0", "UNCLASSIFIED", official?.Severity ?? check.Severity,
                official?.StigId ?? check.Stig?.StigId ?? "", official?.GroupTitle ?? "", official?.Title ?? check.Title,
                official?.FixText ?? check.Remediation, "", "", official?.Discussion ?? "", official?.CheckContent ?? CklReport.OwnCheckText(check),
                "false", "", "", "", "", "", "", "", new CklbContentRef("", official?.CheckContentRef ?? "M"), [],
                official?.Cci ?? check.Stig?.Cci ?? [], [new CklbGroup(check.Id, official?.GroupTitle ?? "", "<GroupDescription></GroupDescription>")],
                time, time, stigUuid, Status(check.Status), new Dictionary<string, string>(), "", CklReport.FindingDetails(check));
        }).ToList();
        var checklist = new CklbChecklist(
            $"Bulwark audit of {report.Node.Hostname}", CklReport.DeterministicUuid(report.Node.Hostname, time.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
            false, 1, true,
            new CklbTarget("Computing", report.Node.Hostname, "", "", report.Node.Hostname,
                $"Audited by {report.Tool} {report.Version} (data dir {report.Node.DataDir})", "None", false, "", "", ""),
            [new CklbStig(disa?.Title ?? stig.Title, "Kubernetes", stigId,
                disa?.ReleaseInfo ?? $"Bulwark catalog {stig.Version}", disa?.Version ?? "1", stigUuid, "5376", rules.Count, rules)]);
        return JsonSerializer.Serialize(checklist, ComplianceJsonContext.Default.CklbChecklist);
    }

    public static string Status(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "not_a_finding",
        CheckStatus.Fail or CheckStatus.Warn => "open",
        CheckStatus.NotApplicable => "not_applicable",
        _ => "not_reviewed",
    };
}

public sealed record CklbChecklist(
    string Title, string Id, bool Active, int Mode, [property: JsonPropertyName("has_path")] bool HasPath,
    [property: JsonPropertyName("target_data")] CklbTarget TargetData, IReadOnlyList<CklbStig> Stigs);

public sealed record CklbTarget(
    [property: JsonPropertyName("target_type")] string TargetType, [property: JsonPropertyName("host_name")] string HostName,
    [property: JsonPropertyName("ip_address")] string IpAddress, [property: JsonPropertyName("mac_address")] string MacAddress,
    string Fqdn, string Comments, string Role, [property: JsonPropertyName("is_web_database")] bool IsWebDatabase,
    [property: JsonPropertyName("technology_area")] string TechnologyArea, [property: JsonPropertyName("web_db_site")] string WebDbSite,
    [property: JsonPropertyName("web_db_instance")] string WebDbInstance);

public sealed record CklbStig(
    [property: JsonPropertyName("stig_name")] string StigName, [property: JsonPropertyName("display_name")] string DisplayName,
    [property: JsonPropertyName("stig_id")] string StigId, [property: JsonPropertyName("release_info")] string ReleaseInfo,
    string Version, string Uuid, [property: JsonPropertyName("reference_identifier")] string ReferenceIdentifier, int Size,
    IReadOnlyList<CklbRule> Rules);

public sealed record CklbRule(
    string Uuid, [property: JsonPropertyName("stig_uuid")] string StigUuid, [property: JsonPropertyName("target_key")] string? TargetKey,
    [property: JsonPropertyName("stig_ref")] string? StigRef, [property: JsonPropertyName("group_id")] string GroupId,
    [property: JsonPropertyName("rule_id")] string RuleId, [property: JsonPropertyName("rule_id_src")] string RuleIdSrc, string Weight,
    string Classification, string Severity, [property: JsonPropertyName("rule_version")] string RuleVersion,
    [property: JsonPropertyName("group_title")] string GroupTitle, [property: JsonPropertyName("rule_title")] string RuleTitle,
    [property: JsonPropertyName("fix_text")] string FixText, [property: JsonPropertyName("false_positives")] string FalsePositives,
    [property: JsonPropertyName("false_negatives")] string FalseNegatives, string Discussion,
    [property: JsonPropertyName("check_content")] string CheckContent, string Documentable, string Mitigations,
    [property: JsonPropertyName("potential_impacts")] string PotentialImpacts, [property: JsonPropertyName("third_party_tools")] string ThirdPartyTools,
    [property: JsonPropertyName("mitigation_control")] string MitigationControl, string Responsibility,
    [property: JsonPropertyName("security_override_guidance")] string SecurityOverrideGuidance, [property: JsonPropertyName("ia_controls")] string IaControls,
    [property: JsonPropertyName("check_content_ref")] CklbContentRef CheckContentRef, [property: JsonPropertyName("legacy_ids")] IReadOnlyList<string> LegacyIds,
    IReadOnlyList<string> Ccis, [property: JsonPropertyName("group_tree")] IReadOnlyList<CklbGroup> GroupTree,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt, [property: JsonPropertyName("updatedAt")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("STIGUuid")] string StigUuidUpper, string Status, IReadOnlyDictionary<string, string> Overrides, string Comments,
    [property: JsonPropertyName("finding_details")] string FindingDetails);

public sealed record CklbContentRef(string Href, string Name);

public sealed record CklbGroup(string Id, string Title, string Description);
