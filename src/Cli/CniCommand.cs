using System.CommandLine;
using System.Text.Json;
using Bulwark.Addons;
using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Cli;

/// <summary><c>bulwark cni verify|render</c>: prove the node's CNI configuration with the real plugins; show the add-ons a choice deploys.</summary>
internal static class CniCommand
{
    public static Command Create(CliEnvironment env) => new("cni", "The node's CNI: verify its configuration with the real plugins, or render the add-ons a cni choice deploys")
    {
        CreateVerify(env),
        CreateRender(env),
    };

    private static Command CreateVerify(CliEnvironment env)
    {
        var contract = CniSpecContract.BuiltIn.Value;
        var confDir = new Option<string>("--cni-conf-dir") { Description = $"Folder of CNI configs; the lexically first is active (default {contract.ConfDir})", DefaultValueFactory = _ => contract.ConfDir, HelpName = "DIR" };
        var binDirs = new Option<string[]>("--cni-bin-dir") { Description = $"Folder of plugin binaries, repeatable (default {string.Join(", ", contract.BinDirs)})", HelpName = "DIR" };
        var attachments = new Option<string[]>("--attachment") { Description = "A secondary network (CNI JSON or NetworkAttachmentDefinition YAML) run beside the primary as net1, net2, … (Multus); repeatable", HelpName = "FILE" };
        var output = OutputOption.Create();
        var command = new Command("verify",
            "Validate the active CNI config (version, chain, capabilities, IPAM ranges, Multus delegate), run its plugins for real in a scratch network namespace " +
            "(ADD, CHECK, DEL) and check nothing is left behind. Plugins that are not installed are reported as not run.")
        {
            confDir, binDirs, attachments, output,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.ClusterCidr, ConfigKeys.ServiceCidr]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var json = parse.GetValue(output) == "json";
            var bins = parse.GetValue(binDirs) is { Length: > 0 } given ? given : contract.BinDirs;
            var options = new CniVerifyOptions(parse.GetValue(confDir)!, bins,
                CniVerifyOptions.ParseCidrs(config.Get(ConfigKeys.ClusterCidr)), CniVerifyOptions.ParseCidrs(config.Get(ConfigKeys.ServiceCidr)),
                parse.GetValue(attachments) ?? []);
            if (!json)
            {
                env.Out.WriteLine($"Verifying the CNI configuration in {options.ConfDir} (plugins from {string.Join(", ", options.BinDirs)})");
            }
            var verifier = new CniVerifier(contract, json ? null : step => WriteStep(step, env.Out, env.IsTerminal));
            CniVerifyReport report;
            try
            {
                report = await verifier.VerifyAsync(options, cancellationToken);
            }
            catch (Exception e) when (e is Processes.ProgramNotFoundException or Processes.ProcessFailedException or IOException or UnauthorizedAccessException)
            {
                env.Error.WriteLine($"error: cni verify could not run: {e.Message}");
                env.Error.WriteLine("It needs root (network namespaces, iptables) and iproute2; nothing was left behind.");
                return ExitCodes.Unavailable;
            }
            if (json)
            {
                env.Out.WriteLine(JsonSerializer.Serialize(report, CniJsonContext.Default.CniVerifyReport));
            }
            else
            {
                env.Out.WriteLine(report.Passed
                    ? $"CNI verified: {report.Count(CniStepStatus.Passed)} passed, {report.Count(CniStepStatus.Known)} known plugin behaviours handled, {report.Count(CniStepStatus.NotRun)} not run (plugin absent), {report.Count(CniStepStatus.Warning)} warnings."
                    : $"CNI verification failed: {report.Count(CniStepStatus.Failed)} failed step(s); fixes above.");
            }
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static void WriteStep(CniVerifyStep step, TextWriter output, bool color)
    {
        var (label, code) = step.Status switch
        {
            CniStepStatus.Passed => ("PASS", "32"),
            CniStepStatus.Failed => ("FAIL", "31"),
            CniStepStatus.NotRun => ("SKIP", "33"),
            CniStepStatus.Known => ("NOTE", "36"),
            _ => ("WARN", "33"),
        };
        output.WriteLine($"  {(color ? $"\u001b[{code}m{label}\u001b[0m" : label)}  {step.Network,-16} {step.Step,-16} {step.Detail}");
        if (step.Fix is { } fix && step.Status is CniStepStatus.Failed or CniStepStatus.Warning)
        {
            output.WriteLine($"        fix: {fix}");
        }
        output.Flush();
    }

    private static Command CreateRender(CliEnvironment env)
    {
        var images = new Option<bool>("--images") { Description = "List the images the add-ons run (for air-gap bundles and system-default-registry mirrors) instead of the manifests" };
        var command = new Command("render", "Print the HelmCharts a cni choice deploys, with cluster values and hardened overrides (writes nothing)") { images };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.Cni, ConfigKeys.ClusterCidr, ConfigKeys.ServiceCidr, ConfigKeys.ClusterDns, ConfigKeys.ClusterDomain,
            ConfigKeys.SystemDefaultRegistry, ConfigKeys.DataDir]);
        command.SetAction(parse =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            if (parse.GetValue(images))
            {
                foreach (var image in AddonStage.Images(config, EmbeddedData.BuiltIn))
                {
                    env.Out.WriteLine(image);
                }
                return ExitCodes.Ok;
            }
            var selection = CniSelection.From(config);
            var renderer = new CniAddonRenderer(CniCatalog.BuiltIn.Value, ApiResourceTable.BuiltIn.Value);
            var documents = CniCatalog.BuiltIn.Value.For(selection)
                .SelectMany(spec => new[] { spec.Chart.Name }.Concat(spec.Chart.CrdChart is { } crd ? [crd] : [])
                    .Select(chart => (YamlDotNet.RepresentationModel.YamlNode)renderer.HelmChart(config, new AddonPaths(config.DataDir), spec, chart, selection, chart != spec.Chart.Name)))
                .ToArray();
            env.Out.Write(documents.Length == 0 ? $"# cni {selection.Display}: Bulwark deploys no CNI add-on\n" : YamlNodes.Serialize(documents));
            return ExitCodes.Ok;
        });
        return command;
    }
}
