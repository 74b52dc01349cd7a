using System.CommandLine;
using System.Text.Json;
using Bulwark.Compliance.Reports;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Resources;

namespace Bulwark.Cli;

/// <summary><c>bulwark scan image|sign|manifests</c>: the gate on a Trivy report, cosign-style signatures of files, Pod Security Standards on manifests.</summary>
internal static class ScanCommand
{
    public static Command Create(CliEnvironment env) => new("scan", "Pipeline stages: the vulnerability gate, signatures and Pod Security Standards on manifests")
    {
        CreateImage(env),
        CreateSign(env),
        CreateManifests(env),
    };

    private static Command CreateImage(CliEnvironment env)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image the report is about" };
        var report = new Option<string>("--trivy-report") { Description = "Trivy JSON report (trivy image --format json) to gate", HelpName = "FILE", Required = true };
        var severity = new Option<string>("--severity") { Description = "Threshold (default from pipeline/stages.yaml)", HelpName = "LOW|MEDIUM|HIGH|CRITICAL" };
        var all = new Option<bool>("--all") { Description = "Count vulnerabilities without a fix too (default: fixed-only)" };
        var ignore = new Option<string>("--ignore") { Description = "Accepted vulnerabilities: .trivyignore or the YAML form", HelpName = "FILE" };
        var vex = new Option<string[]>("--vex") { Description = "OpenVEX document(s) to honour", HelpName = "FILE" };
        var output = OutputOption.Create();
        var command = new Command("image", "Gate an image's Trivy report: severity threshold, fixed-only, ignores (expired ones reported), VEX")
        {
            image, report, severity, all, ignore, vex, output,
        };
        command.SetAction((parse, _) => AirgapCommand.Run(env, () =>
        {
            var settings = PipelineSettings.Load(EmbeddedData.BuiltIn);
            var threshold = settings.Threshold;
            if (parse.GetValue(severity) is { } text && !Severities.TryParseStrict(text, out threshold))
            {
                throw new PipelineException($"--severity {text}: expected UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL");
            }
            var path = parse.GetValue(report)!;
            var parsed = TrivyStage.ParseReport(File.Exists(path) ? File.ReadAllText(path) : throw new PipelineException($"--trivy-report {path}: no such file"), path);
            var policy = new GatePolicy(threshold, !parse.GetValue(all) && settings.FixedOnly, false,
                parse.GetValue(ignore) is { } i ? IgnorePolicy.Load(i) : [], (parse.GetValue(vex) ?? []).Select(VexDocument.Load).ToList());
            var result = Gate.Evaluate(parse.GetValue(image)!, null, parsed, policy, DateOnly.FromDateTime(DateTime.UtcNow));
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(result, PipelineJsonContext.Default.ScanResult));
            }
            else
            {
                WriteText(env.Out, result);
            }
            return Task.FromResult(result.Passed ? ExitCodes.Ok : ExitCodes.Failed);
        }));
        return command;
    }

    private static void WriteText(TextWriter output, ScanResult result)
    {
        output.WriteLine($"{result.Image}: gate {(result.Passed ? "PASSED" : "FAILED")} (threshold {result.Threshold}{(result.FixedOnly ? ", fixed-only" : "")})");
        foreach (var f in result.Findings)
        {
            var mark = f.Decision == FindingDecision.Blocking ? "FAIL" : f.Decision.ToString().ToLowerInvariant();
            output.WriteLine($"  {mark,-14} {f.Severity,-8} {f.Id,-18} {f.Package} {f.InstalledVersion}{(f.FixedVersion is { } fix ? " → " + fix : "")}{(f.Reason is { } r ? "  (" + r + ")" : "")}");
        }
        foreach (var e in result.ExpiredIgnores)
        {
            output.WriteLine($"  expired ignore: {e.Id} ({e.Source}) ended {e.ExpiredOn}");
        }
        foreach (var problem in result.Problems)
        {
            output.WriteLine($"  problem: {problem}");
        }
    }

    private static Command CreateSign(CliEnvironment env)
    {
        var file = new Argument<string>("FILE") { Description = "File to sign (a bundle, an SBOM, a payload)" };
        var key = new Option<string>("--key") { Description = "Private key (PEM, 0600): ECDSA P-256/P-384 or RSA-3072", HelpName = "KEY", Required = true };
        var command = new Command("sign", "Write FILE.sig: a DER signature (ECDSA P-256/SHA-256 as cosign), checkable with openssl dgst -sha256 -verify") { file, key };
        command.SetAction((parse, _) => AirgapCommand.Run(env, () =>
        {
            var crypto = CryptoService.For(FipsMode.On);
            var signer = new ArtifactSigner(crypto);
            using var privateKey = signer.LoadPrivateKey(parse.GetValue(key)!);
            var path = parse.GetValue(file)!;
            var signature = signer.Sign(privateKey, File.Exists(path) ? File.ReadAllBytes(path) : throw new PipelineException($"{path}: no such file"));
            AtomicFile.WriteAllBytes(path + ".sig", signature, AtomicFile.WorldReadable);
            env.Out.WriteLine($"wrote {path}.sig ({CryptoService.DescribeKey(privateKey)})");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>A Pod Security Standards level option (restricted by default), for scan manifests and the air-gap commands.</summary>
    internal static Option<string> PodSecurityLevelOption(string name, string description)
    {
        var level = new Option<string>(name) { Description = description, DefaultValueFactory = _ => "restricted", HelpName = "baseline|restricted" };
        level.AcceptOnlyFromAmong("baseline", "restricted");
        return level;
    }

    internal static PodSecurityLevel ParseLevel(string? value) => value == "baseline" ? PodSecurityLevel.Baseline : PodSecurityLevel.Restricted;

    private static readonly string[] ManifestFormats = ["text", "json", "sarif", "junit", "html"];

    private static Command CreateManifests(CliEnvironment env)
    {
        var target = new Argument<string>("PATH") { Description = "A manifest file or a folder of them (searched recursively: *.yaml, *.yml, *.json)" };
        var level = PodSecurityLevelOption("--level", "Pod Security Standards level (restricted includes baseline)");
        var format = new Option<string[]>("--output", "-o")
        {
            Description = "Report format (repeatable): text, json, sarif, junit, html (the audit's writers); an --output-file after it names its file",
            HelpName = string.Join("|", ManifestFormats),
        };
        format.AcceptOnlyFromAmong(ManifestFormats);
        var outputFile = new Option<string[]>("--output-file") { Description = "File for the --output format before it (default: standard output)", HelpName = "FILE" };
        var command = new Command("manifests", "Evaluate the Pod Security Standards (latest, as of Kubernetes v1.32) on the pod templates of Pods, Deployments, " +
            "ReplicaSets, DaemonSets, StatefulSets, Jobs and CronJobs; each violation with file:line and field path")
        {
            target, level, format, outputFile,
        };
        command.SetAction((parse, _) => AirgapCommand.Run(env, () =>
        {
            var targets = AuditCommand.PairOutputs(parse, env);
            if (targets is null)
            {
                return Task.FromResult(ExitCodes.Usage);
            }
            var started = DateTimeOffset.UtcNow;
            var scan = new ManifestScanner(PodSecurityStandards.Load(EmbeddedData.BuiltIn))
                .Scan(parse.GetValue(target)!, ParseLevel(parse.GetValue(level)));
            foreach (var skipped in scan.Skipped)
            {
                env.Error.WriteLine($"skipped {skipped.File}:{skipped.Line}: kind {skipped.Kind} has no pod template");
            }
            env.Error.WriteLine($"scanned {scan.Files.Count} file(s): {scan.Workloads.Count} workload(s), {scan.Violations.Count()} violation(s) of Pod Security Standards {scan.Level.ToString().ToLowerInvariant()}, {scan.Skipped.Count} document(s) skipped");
            var report = ManifestReport.From(scan, "bulwark", BuildInfo.Current.Version, started, DateTimeOffset.UtcNow);
            var written = AuditCommand.WriteReports(env, report, targets, new ReportOptions(env.IsTerminal));
            return Task.FromResult(written != ExitCodes.Ok ? written : scan.Passed ? ExitCodes.Ok : ExitCodes.Failed);
        }));
        return command;
    }
}
