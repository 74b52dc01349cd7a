using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Compliance.Reports;
using Bulwark.Resources;

namespace Bulwark.Compliance;

/// <summary>What to audit: the node, the built-in benchmarks (cis-1.12, cis-1.23, stig, rke2-stig), an optional user catalog folder.</summary>
public sealed record AuditSettings(NodePaths Node, IReadOnlyList<string> Benchmarks)
{
    /// <summary>A folder of kube-bench controls files to evaluate too (e.g. kube-bench's cfg/rke2-cis-1.23).</summary>
    public string? CatalogDirectory { get; init; }

    /// <summary>Lets a user catalog's audit: shell commands run (never needed by the built-in catalogs).</summary>
    public bool AllowExec { get; init; }

    public string ToolVersion { get; init; } = "0.0.0";

    /// <summary>The Kubernetes API for live evidence (NetworkPolicies, service accounts, bindings, pods); null reads the node only.</summary>
    public ClusterConnection? Cluster { get; init; }
}

/// <summary>The audit capability's entry point: load the catalogs, evaluate them on the node, return the report.</summary>
public static class ComplianceAudit
{
    /// <summary>The CIS Kubernetes Benchmark for the Kubernetes version Bulwark runs (kube-bench maps 1.32 to cis-1.12).</summary>
    public const string DefaultCis = "cis-1.12";

    /// <summary>The CIS version the STIG catalogs' uses: lists name (and the profile name users type).</summary>
    public const string Cis123 = "cis-1.23";

    public const string Stig = "stig";
    public const string Rke2Stig = "rke2-stig";
    public static readonly IReadOnlyList<string> CisBenchmarks = [DefaultCis, Cis123];
    public static readonly IReadOnlyList<string> StigBenchmarks = [Stig, Rke2Stig];
    public static readonly IReadOnlyList<string> BuiltInBenchmarks = [.. CisBenchmarks, .. StigBenchmarks];
    public static readonly IReadOnlyList<string> DefaultBenchmarks = [DefaultCis, Stig];

    /// <summary>
    /// The benchmarks to run: the chosen ones (default cis-1.12 and stig). A DISA STIG file given for checklists
    /// picks the STIG catalog by the Benchmark id inside it; a STIG Bulwark has no catalog for, or one that
    /// contradicts an explicitly chosen STIG, is refused rather than written under the wrong name.
    /// </summary>
    public static IReadOnlyList<string> SelectBenchmarks(IReadOnlyList<string> chosen, StigBenchmark? disa, EmbeddedData data)
    {
        var benchmarks = chosen.Count > 0 ? chosen.Distinct().ToList() : [.. DefaultBenchmarks];
        if (disa is null)
        {
            return benchmarks;
        }
        var stigs = CatalogLoader.LoadStigs(data, CatalogSettings.Empty);
        var match = stigs.FirstOrDefault(s => s.StigBenchmarkId == disa.Id)
            ?? throw new CatalogException($"--stig-benchmark {disa.FileName}: Bulwark has no catalog for the STIG '{disa.Title}' (Benchmark id {disa.Id}). "
                + $"Supported STIGs: {string.Join(", ", stigs.Select(s => $"{s.StigBenchmarkId} (--benchmark {s.Name})"))}.");
        var explicitOther = chosen.Where(b => StigBenchmarks.Contains(b) && b != match.Name).ToList();
        if (explicitOther.Count > 0)
        {
            throw new CatalogException($"--stig-benchmark {disa.FileName} is the {disa.Id} STIG (--benchmark {match.Name}), but --benchmark {string.Join(", ", explicitOther)} was asked for; "
                + "pass the STIG file that matches the benchmark, or leave --benchmark out.");
        }
        return [.. benchmarks.Where(b => !StigBenchmarks.Contains(b)), match.Name];
    }

    /// <summary>Throws <see cref="CatalogException"/> for an unusable catalog (the message says where and how to fix it).</summary>
    public static Task<AuditReport> RunAsync(AuditSettings settings, EmbeddedData data, CancellationToken cancellationToken = default)
    {
        var unknown = settings.Benchmarks.Where(b => !BuiltInBenchmarks.Contains(b)).ToList();
        if (unknown.Count > 0)
        {
            throw new CatalogException($"unknown benchmark {string.Join(", ", unknown)}; built-in benchmarks: {string.Join(", ", BuiltInBenchmarks)} (use --catalog DIR for others).");
        }
        var cis = CisBenchmarks.Where(settings.Benchmarks.Contains).Select(name => CatalogLoader.LoadCis(data, name)).ToList();
        // The STIG catalogs combine cis-1.23 checks (uses:); when cis-1.23 is reported too, each check is evaluated once.
        var referenced = cis.FirstOrDefault(c => c.Name == Cis123) ?? CatalogLoader.LoadCis(data, Cis123);
        var catalogs = new List<Catalog.Catalog>(cis);
        catalogs.AddRange(CatalogLoader.LoadStigs(data, referenced.Settings).Where(s => settings.Benchmarks.Contains(s.Name)));
        if (settings.CatalogDirectory is { } directory)
        {
            // A user catalog finds components and variables where Bulwark's layout puts them, unless its config.yaml says otherwise.
            catalogs.Add(CatalogLoader.LoadDirectory(directory, referenced.Settings));
        }
        var request = new AuditRequest(settings.Node, catalogs, settings.AllowExec) { Referenced = referenced, ToolVersion = settings.ToolVersion, Cluster = settings.Cluster };
        return AuditRunner.RunAsync(request, cancellationToken);
    }
}
