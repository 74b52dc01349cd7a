using System.Diagnostics;
using Bulwark.Compliance;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Processes;
using Bulwark.Resources;
using Bulwark.Tests;

namespace Bulwark.Benchmarks;

/// <summary>
/// A full CIS + DISA STIG audit of the node Bulwark renders under cis-1.23 (real PKI, renderer and etcd member) (catalogs loaded and every check evaluated),
/// against two peers over the same files in the same run: `find -printf '%m %u %p'` (stat of every file,
/// one process) and reading every file's bytes in-process. Goal: the whole audit under one second.
/// </summary>
public static class AuditBenchmarks
{
    public static readonly Benchmark Full = new("audit", "full CIS + STIG audit of a hardened node vs. find -printf and raw reads of the same tree", async output =>
    {
        await using var node = await RenderedNode.CreateAsync(startEtcd: true);
        var paths = new NodePaths(HostRoot.Real, node.DataDir, node.EtcDir);
        var settings = new AuditSettings(paths, ComplianceAudit.DefaultBenchmarks);

        var watch = Stopwatch.StartNew();
        var first = await ComplianceAudit.RunAsync(settings, EmbeddedData.BuiltIn);
        var cold = watch.Elapsed.TotalMilliseconds;
        var checks = first.Totals.Total;

        const int rounds = 30;
        watch.Restart();
        for (var i = 0; i < rounds; i++)
        {
            await ComplianceAudit.RunAsync(settings, EmbeddedData.BuiltIn);
        }
        var audit = watch.Elapsed.TotalMilliseconds / rounds;

        // The same audit with the catalogs parsed once (as a long-running server would keep them).
        var cis = Compliance.Catalog.CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.Cis123);
        var request = new AuditRequest(paths, [cis, .. Compliance.Catalog.CatalogLoader.LoadStigs(EmbeddedData.BuiltIn, cis.Settings)], AllowExec: false) { Referenced = cis };
        await AuditRunner.RunAsync(request);
        watch.Restart();
        for (var i = 0; i < rounds; i++)
        {
            await AuditRunner.RunAsync(request);
        }
        var evaluate = watch.Elapsed.TotalMilliseconds / rounds;

        var find = ProgramLocator.Require("find", "Install findutils.");
        var spec = new ProcessSpec(find, [node.DataDir, node.EtcDir, "/proc/sys", "-printf", "%m %u %p\n"]);
        await ProcessRunner.RunCheckedAsync(spec);
        watch.Restart();
        for (var i = 0; i < rounds; i++)
        {
            await ProcessRunner.RunCheckedAsync(spec);
        }
        var findMs = watch.Elapsed.TotalMilliseconds / rounds;

        var files = Directory.EnumerateFiles(node.Scratch.Path, "*", SearchOption.AllDirectories).ToList();
        watch.Restart();
        for (var i = 0; i < rounds; i++)
        {
            foreach (var file in files)
            {
                File.ReadAllBytes(file);
            }
        }
        var readMs = watch.Elapsed.TotalMilliseconds / rounds;

        output.WriteLine($"   audit: {checks} checks ({first.Totals.Pass} pass, {first.Totals.Manual} manual) in {audit:0.0} ms warm, {cold:0} ms cold (first run, JIT); {checks / (audit / 1000):0} checks/s");
        output.WriteLine($"   of which evaluation alone (catalogs already parsed): {evaluate:0.0} ms; {checks / (evaluate / 1000):0} checks/s");
        output.WriteLine($"   peer find -printf '%m %u %p' over the same tree: {findMs:0.0} ms; audit/find ratio {audit / findMs:0.00}x");
        output.WriteLine($"   peer raw read of the tree's {files.Count} files: {readMs:0.00} ms; audit/raw-read ratio {audit / readMs:0.0}x");
        output.WriteLine($"   goal under 1 s for the whole catalog: {(cold < 1000 ? "met" : "NOT met")} (cold {cold:0} ms)");
    });
}
