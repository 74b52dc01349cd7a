using System.Net;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Bulwark.Compliance.Reports;

/// <summary>One rule of a DISA STIG as published (XCCDF 1.1): the texts a checklist shows.</summary>
public sealed record StigRuleText(
    string VulnId, string GroupTitle, string RuleId, string Severity, string Weight, string StigId, string Title,
    string Discussion, string CheckContent, string CheckContentRef, string FixText, IReadOnlyList<string> Cci);

/// <summary>A DISA STIG benchmark file as users download it (e.g. U_Kubernetes_STIG_V1R9_Manual-xccdf.xml).</summary>
public sealed partial record StigBenchmark(string Id, string Title, string Version, string ReleaseInfo, string FileName, IReadOnlyDictionary<string, StigRuleText> Rules)
{
    public static StigBenchmark Load(string path)
    {
        XDocument doc;
        try
        {
            // DISA files have no DTD; refusing DTDs keeps entity tricks out.
            using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            doc = XDocument.Load(reader, LoadOptions.None);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"--stig-benchmark {path}: not a well-formed XML file (line {e.LineNumber}: {e.Message}). Pass a DISA STIG XCCDF file such as U_Kubernetes_STIG_V1R9_Manual-xccdf.xml.");
        }
        var root = doc.Root;
        XNamespace ns = root?.Name.NamespaceName ?? "";
        if (root is null || root.Name.LocalName != "Benchmark" || !ns.NamespaceName.StartsWith("http://checklists.nist.gov/xccdf/", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"--stig-benchmark {path}: not an XCCDF Benchmark (root element {root?.Name}). Pass the DISA STIG's *-xccdf.xml file, unzipped.");
        }
        var rules = new Dictionary<string, StigRuleText>(StringComparer.Ordinal);
        foreach (var group in root.Descendants(ns + "Group"))
        {
            var rule = group.Element(ns + "Rule");
            var vid = (string?)group.Attribute("id");
            if (rule is null || vid is null)
            {
                continue;
            }
            var description = WebUtility.HtmlDecode((string?)rule.Element(ns + "description") ?? "");
            var discussion = DiscussionPattern().Match(description) is { Success: true } m ? m.Groups[1].Value : description;
            var check = rule.Element(ns + "check");
            rules[vid] = new StigRuleText(
                vid,
                (string?)group.Element(ns + "title") ?? "",
                (string?)rule.Attribute("id") ?? "",
                (string?)rule.Attribute("severity") ?? "medium",
                (string?)rule.Attribute("weight") ?? "10.0",
                (string?)rule.Element(ns + "version") ?? "",
                (string?)rule.Element(ns + "title") ?? "",
                discussion.Trim(),
                ((string?)check?.Element(ns + "check-content") ?? "").Trim(),
                (string?)check?.Element(ns + "check-content-ref")?.Attribute("name") ?? "M",
                ((string?)rule.Element(ns + "fixtext") ?? "").Trim(),
                rule.Elements(ns + "ident").Where(i => ((string?)i.Attribute("system") ?? "").Contains("cci", StringComparison.OrdinalIgnoreCase)).Select(i => i.Value).ToList());
        }
        if (rules.Count == 0)
        {
            throw new InvalidDataException($"--stig-benchmark {path}: the benchmark has no rules (Group/Rule elements); is it the right file?");
        }
        var release = root.Elements(ns + "plain-text").FirstOrDefault(p => (string?)p.Attribute("id") == "release-info")?.Value ?? "";
        return new StigBenchmark((string?)root.Attribute("id") ?? "", (string?)root.Element(ns + "title") ?? "", (string?)root.Element(ns + "version") ?? "", release, Path.GetFileName(path), rules);
    }

    [GeneratedRegex("<VulnDiscussion>(.*?)</VulnDiscussion>", RegexOptions.Singleline)]
    private static partial Regex DiscussionPattern();
}
