using System.CommandLine;
using System.CommandLine.Parsing;
using Bulwark.Compliance;
using Bulwark.ControlPlane;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Compliance.Reports;
using Bulwark.Config;
using Bulwark.FileSystem;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Cli;

/// <summary>`bulwark audit`: CIS and STIG checks of this node, written in the formats auditors' tools read.</summary>
internal static class AuditCommand
{
    public static Command Create(CliEnvironment env)
    {
        var benchmark = new Option<string[]>("--benchmark", "-b")
        {
            Description = $"Benchmark to run (repeatable): {string.Join(", ", ComplianceAudit.BuiltInBenchmarks)}; default {string.Join(" and ", ComplianceAudit.DefaultBenchmarks)}",
            HelpName = string.Join("|", ComplianceAudit.BuiltInBenchmarks),
            AllowMultipleArgumentsPerToken = false,
        };
        benchmark.AcceptOnlyFromAmong([.. ComplianceAudit.BuiltInBenchmarks]);
        // kubectl's vocabulary, as every other command: -o/--output is a format; the file is --output-file.
        var format = new Option<string[]>("--output", "-o", "--format")
        {
            Description = "Report format (repeatable): text, json, junit, sarif, xccdf, ckl, cklb, html; an --output-file after it names its file",
            HelpName = string.Join("|", ReportWriter.Names),
        };
        format.AcceptOnlyFromAmong([.. ReportWriter.Names]);
        var output = new Option<string[]>("--output-file") { Description = "File for the --output format before it (default: standard output)", HelpName = "FILE" };
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when a check fails (fail, default) or also when one warns (warn)", DefaultValueFactory = _ => "fail", HelpName = "fail|warn" };
        failOn.AcceptOnlyFromAmong("fail", "warn");
        var catalog = new Option<string>("--catalog") { Description = "Also evaluate a folder of kube-bench controls files", HelpName = "DIR" };
        var allowExec = new Option<bool>("--allow-exec") { Description = "Let --catalog checks run their audit: shell commands (off by default; built-in catalogs never need it)" };
        var stigBenchmark = new Option<string>("--stig-benchmark") { Description = "DISA STIG XCCDF file whose titles, check and fix texts fill the ckl report; it picks the STIG catalog (Kubernetes or RKE2 STIG)", HelpName = "FILE" };
        var exportKubeBench = new Option<string>("--export-kube-bench-config")
        {
            Description = "Write the kube-bench config dir for Bulwark's layout into DIR (for kube-bench --config-dir DIR) and exit",
            HelpName = "DIR",
        };
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "Kubeconfig for live evidence from the API (default: the admin kubeconfig Bulwark writes)", HelpName = "FILE" };
        var offline = new Option<bool>("--offline") { Description = "Read the node only: checks that need the Kubernetes API stay MANUAL" };
        var etcDir = new Option<string>("--etc-dir") { Description = "The node's Bulwark config folder (default: the folder of --config, /etc/bulwark)", HelpName = "DIR" };
        var command = new Command("audit", "Audit this node against the CIS Kubernetes Benchmark (1.12 for Kubernetes 1.32, or 1.23) and the DISA Kubernetes or RKE2 STIG; write reports")
        {
            benchmark, format, output, failOn, catalog, allowExec, stigBenchmark, exportKubeBench, kubeconfig, offline, etcDir, HardeningCommand.HostRootOption,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(exportKubeBench) is { } exportDirectory)
            {
                return ExportKubeBenchConfig(env, exportDirectory);
            }
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var hostRoot = new HostRoot(parse.GetValue(HardeningCommand.HostRootOption)!);
            if (!Directory.Exists(hostRoot.Path))
            {
                env.Error.WriteLine($"error: --host-root {hostRoot.Path}: no such directory");
                return ExitCodes.Usage;
            }
            var targets = PairOutputs(parse, env);
            if (targets is null)
            {
                return ExitCodes.Usage;
            }
            StigBenchmark? disa = null;
            if (parse.GetValue(stigBenchmark) is { } stigFile)
            {
                if (!File.Exists(stigFile))
                {
                    env.Error.WriteLine($"error: --stig-benchmark {stigFile}: no such file. Pass the DISA STIG XCCDF (e.g. U_Kubernetes_STIG_V1R9_Manual-xccdf.xml).");
                    return ExitCodes.Usage;
                }
                try
                {
                    disa = StigBenchmark.Load(stigFile);
                }
                catch (InvalidDataException e)
                {
                    env.Error.WriteLine($"error: {e.Message}");
                    return ExitCodes.Usage;
                }
            }
            IReadOnlyList<string> benchmarks;
            try
            {
                benchmarks = ComplianceAudit.SelectBenchmarks(parse.GetValue(benchmark) ?? [], disa, EmbeddedData.BuiltIn);
            }
            catch (CatalogException e)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            if (targets.Any(t => t.Format is ReportFormat.Ckl or ReportFormat.Cklb) && !benchmarks.Any(ComplianceAudit.StigBenchmarks.Contains))
            {
                env.Error.WriteLine("error: --format ckl/cklb writes a STIG checklist; add --benchmark stig or rke2-stig (or leave --benchmark out).");
                return ExitCodes.Usage;
            }
            var configFile = parse.GetValue(ConfigFlags.ConfigFile) is { Length: > 0 } c ? c : ConfigLoader.DefaultConfigFile;
            var node = new NodePaths(hostRoot, config.DataDir, parse.GetValue(etcDir) ?? Path.GetDirectoryName(Path.GetFullPath(configFile))!);
            using var cluster = parse.GetValue(offline)
                ? ClusterConnection.None("--offline was given")
                : await ClusterConnection.ConnectAsync(parse.GetValue(kubeconfig) ?? node.Resolve(ControlPlaneRenderer.AdminKubeconfigPath(config, node.EtcDir)), cancellationToken);
            var settings = new AuditSettings(node, benchmarks)
            {
                CatalogDirectory = parse.GetValue(catalog),
                AllowExec = parse.GetValue(allowExec),
                ToolVersion = BuildInfo.Current.Version,
                Cluster = cluster,
            };
            AuditReport report;
            try
            {
                report = await ComplianceAudit.RunAsync(settings, EmbeddedData.BuiltIn, cancellationToken);
            }
            catch (CatalogException e)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            var written = WriteReports(env, report, targets, new ReportOptions(env.IsTerminal, disa));
            if (written != ExitCodes.Ok)
            {
                return written;
            }
            var threshold = parse.GetValue(failOn) == "warn" ? FailOn.Warn : FailOn.Fail;
            return report.FailsAt(threshold) ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    internal sealed record Target(ReportFormat Format, string? Path);

    /// <summary>
    /// Renders every target, then writes them (files atomically, 0600) or prints the one for standard output; if a file cannot be
    /// written none is kept. Shared by audit and scan manifests.
    /// </summary>
    internal static int WriteReports(CliEnvironment env, AuditReport report, IReadOnlyList<Target> targets, ReportOptions options)
    {
        var written = new List<string>();
        try
        {
            // Render everything before writing anything, so a failure leaves no partial set of reports.
            var rendered = targets.Select(t => (t.Path, Text: ReportWriter.Render(report, t.Format, options with { Color = options.Color && t.Path is null }))).ToList();
            foreach (var (path, text) in rendered.Where(r => r.Path is not null))
            {
                AtomicFile.WriteAllText(path!, text, AtomicFile.Private);
                written.Add(path!);
            }
            foreach (var (_, text) in rendered.Where(r => r.Path is null))
            {
                env.Out.Write(text);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // All or nothing: a set of reports with one missing would mislead whoever collects them.
            foreach (var path in written)
            {
                File.Delete(path);
            }
            env.Error.WriteLine($"error: writing the reports failed: {e.Message}. Check the --output folders are writable; no report was kept.");
            return ExitCodes.Unavailable;
        }
        foreach (var target in targets.Where(t => t.Path is not null))
        {
            env.Error.WriteLine($"wrote {target.Format.ToString().ToLowerInvariant()} report: {target.Path}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>--export-kube-bench-config DIR: writes the shipped kube-bench config dir; refuses to overwrite files.</summary>
    private static int ExportKubeBenchConfig(CliEnvironment env, string directory)
    {
        try
        {
            var files = KubeBenchConfigExport.Export(EmbeddedData.BuiltIn, directory);
            env.Out.WriteLine($"Wrote the kube-bench config dir for Bulwark's layout ({files.Count} files) to {directory}.");
            env.Out.WriteLine($"Run: kube-bench --config-dir {directory} (replace /var/lib/bulwark in it if your data-dir differs).");
            return ExitCodes.Ok;
        }
        catch (CatalogException e)
        {
            env.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>
    /// Pairs each --output-file with the --output format before it, in command-line order: "-o text -o json --output-file a.json" prints
    /// text and writes json to a.json. At most one format may go to standard output.
    /// </summary>
    internal static List<Target>? PairOutputs(ParseResult parse, CliEnvironment env)
    {
        var targets = new List<Target>();
        var tokens = parse.Tokens;
        for (var i = 0; i < tokens.Count - 1; i++)
        {
            if (tokens[i].Type != TokenType.Option)
            {
                continue;
            }
            var name = tokens[i].Value;
            var value = tokens[i + 1].Value;
            if (name is "--output" or "-o" or "--format")
            {
                targets.Add(new Target(ReportWriter.Parse(value)!.Value, null));
            }
            else if (name is "--output-file")
            {
                var index = targets.FindLastIndex(t => t.Path is null);
                if (index < 0 || index != targets.Count - 1)
                {
                    env.Error.WriteLine($"error: --output-file {value} has no --output format before it; write --output FORMAT --output-file FILE.");
                    return null;
                }
                if (Directory.Exists(value))
                {
                    env.Error.WriteLine($"error: --output-file {value} is a folder; give a file name.");
                    return null;
                }
                var folder = Path.GetDirectoryName(Path.GetFullPath(value))!;
                if (!Directory.Exists(folder))
                {
                    env.Error.WriteLine($"error: --output {value}: the folder {folder} does not exist; create it first.");
                    return null;
                }
                targets[index] = targets[index] with { Path = value };
            }
        }
        if (targets.Count == 0)
        {
            targets.Add(new Target(ReportFormat.Text, null));
        }
        if (targets.Count(t => t.Path is null) > 1)
        {
            env.Error.WriteLine("error: only one --output format can go to standard output; give the others an --output-file FILE.");
            return null;
        }
        var duplicate = targets.Where(t => t.Path is not null).GroupBy(t => Path.GetFullPath(t.Path!)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            env.Error.WriteLine($"error: two reports would be written to {duplicate.Key}; give each --output format its own --output-file.");
            return null;
        }
        return targets;
    }
}
