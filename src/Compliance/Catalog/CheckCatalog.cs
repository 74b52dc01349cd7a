namespace Bulwark.Compliance.Catalog;

/// <summary>
/// One controls file in kube-bench's format (id, version, text, type, groups of checks), plus Bulwark's
/// extensions (native evidence, levels, severities, cross-references). <see cref="Benchmark"/> names the
/// benchmark the file belongs to (cis-1.23, stig, or a user catalog's folder name).
/// </summary>
public sealed record Controls(string Benchmark, string Id, string Version, string Text, string Type, string SourceFile, IReadOnlyList<CheckGroup> Groups)
{
    /// <summary>A STIG controls file's benchmark: key, the id of DISA's XCCDF Benchmark (e.g. RGS_RKE2_STIG).</summary>
    public string? XccdfBenchmark { get; init; }
}

/// <summary>A section of checks (kube-bench "group"), e.g. 1.2 API Server.</summary>
public sealed record CheckGroup(string Id, string Text, IReadOnlyList<CheckDefinition> Checks);

/// <summary>How a check is run. Default: evaluate its tests; Manual and Skip are reported without evaluation.</summary>
public enum CheckType
{
    Automated,
    Manual,
    Skip,
}

/// <summary>
/// One check. Evidence comes from <see cref="Evidence"/> (read natively) or, for user catalogs only and only
/// with --allow-exec, from the shell commands in <see cref="Audit"/>/<see cref="AuditConfig"/>.
/// </summary>
public sealed record CheckDefinition
{
    public required string Id { get; init; }
    public required string Text { get; init; }
    public CheckType Type { get; init; }
    public string? Audit { get; init; }
    public string? AuditConfig { get; init; }
    public EvidenceSpec? Evidence { get; init; }

    /// <summary>Live evidence from the Kubernetes API, used when an apiserver answers.</summary>
    public ClusterQuery? Cluster { get; init; }
    public TestSpec? Tests { get; init; }
    public string Remediation { get; init; } = "";
    public bool Scored { get; init; }
    public bool UseMultipleValues { get; init; }

    /// <summary>CIS profile level (1 or 2); 0 when the catalog does not say.</summary>
    public int Level { get; init; }

    /// <summary>high, medium or low (STIG CAT I/II/III); CIS checks derive theirs from level and scoring.</summary>
    public string Severity { get; init; } = "medium";

    /// <summary>Why a manual check needs a person or a running cluster, and how to check it.</summary>
    public string? Reason { get; init; }

    public CheckReferences References { get; init; } = CheckReferences.None;

    /// <summary>STIG only: the checks of another benchmark whose combined result is this rule's result.</summary>
    public IReadOnlyList<string> Uses { get; init; } = [];

    /// <summary>STIG only: the rule identity DISA publishes.</summary>
    public StigIdentity? Stig { get; init; }

    /// <summary>Why the check as written cannot be evaluated (an unknown op, no tests…); it is reported as ERROR, the catalog still loads.</summary>
    public string? Invalid { get; init; }

    /// <summary>Where in the catalog file the check is defined (file:line), for errors.</summary>
    public string Location { get; init; } = "";
}

/// <summary>Cross-references: CIS ids, STIG V-ids, and the control annotations of Bulwark's policies.</summary>
public sealed record CheckReferences(IReadOnlyList<string> Cis, IReadOnlyList<string> Stig, IReadOnlyList<string> Controls)
{
    public static readonly CheckReferences None = new([], [], []);
}

/// <summary>DISA identifiers of a STIG rule: SV rule id, STIG id (CNTR-K8-…), CCIs.</summary>
public sealed record StigIdentity(string RuleId, string StigId, IReadOnlyList<string> Cci);

/// <summary>kube-bench's tests block: items combined with and/or.</summary>
public sealed record TestSpec(BinaryOp BinOp, IReadOnlyList<TestItem> Items);

public enum BinaryOp
{
    And,
    Or,
}

/// <summary>
/// kube-bench's test_item: look up <see cref="Flag"/> in the audit text, <see cref="Path"/> (a JSONPath such as
/// {.authentication.anonymous.enabled}) in the structured evidence, or <see cref="Env"/> in the process environment;
/// then, when <see cref="Set"/> (the default), require it present and, with a compare, compare its value.
/// With set: false the item passes when the flag is absent.
/// </summary>
public sealed record TestItem(string? Flag, string? Path, string? Env, bool Set, CompareSpec? Compare);

public sealed record CompareSpec(string Op, string Value);

/// <summary>
/// Bulwark's native evidence for a check: which component's arguments, which files' modes/owners, which
/// structured file, which raw files, kernel parameters, or manifests to read. Paths may use catalog variables
/// ($apiserverconf) and the placeholders {data} and {etc}.
/// </summary>
public sealed record EvidenceSpec
{
    /// <summary>The components whose arguments to read (one evidence line each).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];
    public IReadOnlyList<string> Stat { get; init; } = [];
    public string? Config { get; init; }

    /// <summary>
    /// A missing <see cref="Config"/> file is no evidence rather than a failure (kube-bench's audit_config
    /// `if test -e FILE; then cat FILE; fi` prints nothing then, and the tests look at the audit's output alone).
    /// </summary>
    public bool ConfigIfPresent { get; init; }
    public IReadOnlyList<string> File { get; init; } = [];
    public IReadOnlyList<string> Sysctl { get; init; } = [];
    public string? Manifests { get; init; }

    /// <summary>What a missing source means; null: the kind's default (args/stat: not applicable; files: fail).</summary>
    public MissingPolicy? Missing { get; init; }
}

public enum MissingPolicy
{
    Fail,
    NotApplicable,
    Pass,
}
