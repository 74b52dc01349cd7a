using System.Text.Json.Serialization;
using Bulwark.Compliance.Catalog;

namespace Bulwark.Compliance;

/// <summary>The outcome of one check.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
public enum CheckStatus
{
    [JsonStringEnumMemberName("PASS")] Pass,
    [JsonStringEnumMemberName("FAIL")] Fail,
    [JsonStringEnumMemberName("WARN")] Warn,
    [JsonStringEnumMemberName("MANUAL")] Manual,
    [JsonStringEnumMemberName("SKIP")] Skip,
    [JsonStringEnumMemberName("NOT_APPLICABLE")] NotApplicable,

    /// <summary>The check could not be evaluated (a broken check, unreadable evidence); the reason says why.</summary>
    [JsonStringEnumMemberName("ERROR")] Error,
}

public static class CheckStatusText
{
    public static readonly IReadOnlyList<CheckStatus> All = [CheckStatus.Pass, CheckStatus.Fail, CheckStatus.Warn, CheckStatus.Error, CheckStatus.Manual, CheckStatus.Skip, CheckStatus.NotApplicable];

    public static string Label(this CheckStatus s) => s switch
    {
        CheckStatus.Pass => "PASS",
        CheckStatus.Fail => "FAIL",
        CheckStatus.Warn => "WARN",
        CheckStatus.Manual => "MANUAL",
        CheckStatus.Skip => "SKIP",
        CheckStatus.Error => "ERROR",
        _ => "NOT_APPLICABLE",
    };
}

/// <summary>What was looked at: the subject (flag, field, file), the actual value, what was expected, where it was read.</summary>
public sealed record EvidenceRecord(string Subject, string Actual, string Expected, string Source, bool Passed)
{
    /// <summary>The line of <see cref="Source"/> the value was read from, when it is known (a field of a structured file).</summary>
    public int? Line { get; init; }
}

public sealed record CheckResult(
    string Id,
    string Title,
    CheckStatus Status,
    string Severity,
    int Level,
    bool Scored,
    bool Automated,
    string? Reason,
    IReadOnlyList<EvidenceRecord> Evidence,
    string Remediation,
    CheckReferences References,
    StigIdentity? Stig)
{
    /// <summary>True when the check could not be evaluated.</summary>
    public bool Error => Status == CheckStatus.Error;
}

public sealed record SectionResult(string Id, string Text, IReadOnlyList<CheckResult> Checks);

public sealed record StatusTotals(int Total, int Pass, int Fail, int Warn, int Manual, int Skip, int NotApplicable, int Error)
{
    public static StatusTotals Of(IEnumerable<CheckResult> checks)
    {
        var list = checks.ToList();
        int Count(CheckStatus s) => list.Count(c => c.Status == s);
        return new StatusTotals(list.Count, Count(CheckStatus.Pass), Count(CheckStatus.Fail), Count(CheckStatus.Warn),
            Count(CheckStatus.Manual), Count(CheckStatus.Skip), Count(CheckStatus.NotApplicable), Count(CheckStatus.Error));
    }

    public int Get(CheckStatus s) => s switch
    {
        CheckStatus.Pass => Pass,
        CheckStatus.Fail => Fail,
        CheckStatus.Warn => Warn,
        CheckStatus.Manual => Manual,
        CheckStatus.Skip => Skip,
        CheckStatus.Error => Error,
        _ => NotApplicable,
    };
}

/// <summary>One benchmark's results (cis-1.23, stig, or a user catalog), by section.</summary>
public sealed record BenchmarkResult(string Id, string Title, string Version, IReadOnlyList<SectionResult> Sections)
{
    /// <summary>For a STIG: the id of DISA's XCCDF Benchmark (Kubernetes_STIG, RGS_RKE2_STIG); null otherwise.</summary>
    public string? StigBenchmarkId { get; init; }

    public IEnumerable<CheckResult> Checks => Sections.SelectMany(s => s.Checks);

    public StatusTotals Totals => StatusTotals.Of(Checks);
}

/// <summary>Which node was audited, as the node names its paths.</summary>
public sealed record AuditedNode(string Hostname, string HostRoot, string DataDir, string EtcDir);

/// <summary>Everything one `bulwark audit` run found; every report format is written from this.</summary>
public sealed record AuditReport(string Tool, string Version, DateTimeOffset Started, DateTimeOffset Finished, AuditedNode Node, IReadOnlyList<BenchmarkResult> Benchmarks)
{
    public IEnumerable<CheckResult> Checks => Benchmarks.SelectMany(b => b.Checks);

    public StatusTotals Totals => StatusTotals.Of(Checks);

    /// <summary>The STIG results a checklist is made of (the first STIG benchmark run), or null.</summary>
    public BenchmarkResult? Stig => Benchmarks.FirstOrDefault(b => b.StigBenchmarkId is not null);

    /// <summary>
    /// True when a check at or above the threshold did not pass (fail: FAIL or ERROR; warn: also WARN). A check that
    /// could not be evaluated fails closed.
    /// </summary>
    public bool FailsAt(FailOn threshold) =>
        Checks.Any(c => c.Status is CheckStatus.Fail or CheckStatus.Error || (threshold == FailOn.Warn && c.Status == CheckStatus.Warn));
}

public enum FailOn
{
    Fail,
    Warn,
}
