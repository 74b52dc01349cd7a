using System.Text.RegularExpressions;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;

namespace Bulwark.Compliance.Evaluation;

/// <summary>The verdict of a check's tests on its evidence, with one evidence record per test looked at.</summary>
public sealed record TestVerdict(bool Passed, IReadOnlyList<EvidenceRecord> Records);

/// <summary>
/// Evaluates kube-bench tests on collected evidence with kube-bench's semantics: a flag is found by substring and
/// its value taken from "flag=value", "flag: value" or a bare "--flag" (true); a path is a JSONPath into the
/// structured evidence; set: false passes when absent; bin_op combines items; use_multiple_values evaluates
/// every line on its own and needs all of them to pass.
/// </summary>
public static class CheckEvaluator
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public static TestVerdict Evaluate(TestSpec tests, CollectedEvidence evidence, bool multipleValues)
    {
        if (!multipleValues)
        {
            return EvaluateOn(tests, evidence.Segments, evidence);
        }
        var lines = evidence.Segments
            .SelectMany(s => s.Text.Split('\n').Where(l => l.Trim().Length > 0).Select(l => new EvidenceSegment(s.Source, l)))
            .ToList();
        if (lines.Count == 0)
        {
            // As kube-bench: no output is one empty row (set: false passes on it, anything else fails).
            return EvaluateOn(tests, [new EvidenceSegment("(no output)", "")], evidence);
        }
        var records = new List<EvidenceRecord>();
        var passed = true;
        foreach (var line in lines)
        {
            var verdict = EvaluateOn(tests, [line], evidence);
            passed &= verdict.Passed;
            records.AddRange(verdict.Records);
        }
        return new TestVerdict(passed, records);
    }

    private static TestVerdict EvaluateOn(TestSpec tests, IReadOnlyList<EvidenceSegment> segments, CollectedEvidence evidence)
    {
        var outcomes = tests.Items.Select(item => EvaluateItem(item, segments, evidence)).ToList();
        var passed = tests.BinOp == BinaryOp.And ? outcomes.All(o => o.Passed) : outcomes.Any(o => o.Passed);
        return new TestVerdict(passed, outcomes);
    }

    public static EvidenceRecord EvaluateItem(TestItem item, IReadOnlyList<EvidenceSegment> segments, CollectedEvidence evidence)
    {
        var subject = item.Flag ?? item.Path ?? item.Env!;
        string? value = null;
        string? source = null;
        if (item.Flag is { } flag)
        {
            foreach (var segment in segments)
            {
                if (segment.Text.Contains(flag, StringComparison.Ordinal))
                {
                    value = ExtractFlagValue(segment.Text, flag, item.Compare is not null);
                    source = segment.Source;
                    break;
                }
            }
        }
        int? line = null;
        if (value is null && item.Path is { } path && evidence.Config is { } config)
        {
            // kube-bench: a path is found when its template prints something (an empty value counts as absent).
            var printed = JsonPathQuery.Execute(config.Root, path);
            if (printed.Text.Length > 0)
            {
                subject = path;
                value = printed.Text;
                source = config.Source;
                line = printed.Line;
            }
        }
        if (value is null && item.Env is { } env && evidence.Environment.TryGetValue(env, out var envValue))
        {
            subject = env;
            value = envValue;
            source = evidence.EnvironmentSource;
        }
        var found = value is not null;
        var passed = item.Set
            ? found && (item.Compare is null || CompareOps.Evaluate(item.Compare.Op, value!, item.Compare.Value))
            : !found;
        var expected = !item.Set ? "not set" : item.Compare is null ? "set" : CompareOps.Describe(item.Compare.Op, item.Compare.Value);
        var searched = source ?? string.Join(", ", segments.Select(s => s.Source).Concat(evidence.Config is null ? [] : [evidence.Config.Source]).Distinct());
        return new EvidenceRecord(subject, value ?? "(not set)", expected, searched, passed) { Line = line };
    }

    /// <summary>
    /// kube-bench's flag findValue: "(flag)(=|: *)*([^\s]*)"; with no value there, "--flag value" when the test
    /// compares (and the next word is not another flag); else "true" for a --flag and the flag itself otherwise.
    /// </summary>
    public static string ExtractFlagValue(string text, string flag, bool compares = false)
    {
        var match = Regex.Match(text, "(" + Regex.Escape(flag) + @")(=|: *)*([^\s]*) *", RegexOptions.None, RegexTimeout);
        if (!match.Success)
        {
            return "";
        }
        if (match.Groups[3].Value.Length > 0)
        {
            return match.Groups[3].Value;
        }
        if (compares && Regex.Match(text, Regex.Escape(flag) + @"\s+([^\s-][^\s]*)", RegexOptions.None, RegexTimeout) is { Success: true } spaced)
        {
            return spaced.Groups[1].Value;
        }
        return flag.StartsWith("--", StringComparison.Ordinal) ? "true" : match.Groups[1].Value;
    }
}
