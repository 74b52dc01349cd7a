using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Resources;

namespace Bulwark.Compliance;

/// <summary>What to audit: the node, the built-in benchmarks (cis-1.23, stig), an optional user catalog folder.</summary>
public sealed record AuditSettings(NodePaths Node, IReadOnlyList<string> Benchmarks)
{
    /// <summary>A folder of kube-bench controls files to evaluate too (e.g. kube-bench's cfg/rke2-cis-1.23).</summary>
    public string? CatalogDirectory { get; init; }

    /// <summary>Lets a user catalog's audit: shell commands run (never needed by the built-in catalogs).</summary>
    public bool AllowExec { get; init; }

    public string ToolVersion { get; init; } = "0.0.0";
}

/// <summary>The audit capability's entry point: load the catalogs, evaluate them on the node, return the report.</summary>
public static class ComplianceAudit
{
    public const string Cis = "cis-1.23";
    public const string Stig = "stig";
    public static readonly IReadOnlyList<string> BuiltInBenchmarks = [Cis, Stig];

    /// <summary>Throws <see cref="CatalogException"/> for an unusable catalog (the message says where and how to fix it).</summary>
    public static Task<AuditReport> RunAsync(AuditSettings settings, EmbeddedData data, CancellationToken cancellationToken = default)
    {
        var unknown = settings.Benchmarks.Where(b => !BuiltInBenchmarks.Contains(b)).ToList();
        if (unknown.Count > 0)
        {
            throw new CatalogException($"unknown benchmark {string.Join(", ", unknown)}; built-in benchmarks: {string.Join(", ", BuiltInBenchmarks)} (use --catalog DIR for others).");
        }
        var cis = CatalogLoader.LoadCis(data);
        var catalogs = new List<Catalog.Catalog>();
        if (settings.Benchmarks.Contains(Cis))
        {
            catalogs.Add(cis);
        }
        if (settings.Benchmarks.Contains(Stig))
        {
            catalogs.Add(CatalogLoader.LoadStig(data, cis.Settings));
        }
        if (settings.CatalogDirectory is { } directory)
        {
            // A user catalog finds components and variables where Bulwark's layout puts them, unless its config.yaml says otherwise.
            catalogs.Add(CatalogLoader.LoadDirectory(directory, cis.Settings));
        }
        var request = new AuditRequest(settings.Node, catalogs, settings.AllowExec) { Referenced = cis, ToolVersion = settings.ToolVersion };
        return AuditRunner.RunAsync(request, cancellationToken);
    }
}
