using System.CommandLine;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pipeline;
using Bulwark.Resources;

namespace Bulwark.Cli;

/// <summary><c>bulwark scan image|sign</c>: the gate on a Trivy report, and cosign-style signatures of files.</summary>
internal static class ScanCommand
{
    public static Command Create(CliEnvironment env) => new("scan", "Pipeline stages: the vulnerability gate and signatures")
    {
        CreateImage(env),
        CreateSign(env),
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
}
