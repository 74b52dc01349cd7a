using System.CommandLine;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Cli;

internal static class HardeningCommand
{
    public static readonly Option<string> HostRootOption = new("--host-root")
    {
        Description = "Root of the host to check (default /); e.g. /host when Bulwark runs in a container",
        DefaultValueFactory = _ => "/",
        HelpName = "DIR",
    };

    public static Command Create(CliEnvironment env)
    {
        return new Command("hardening", "Check or prepare this host for a hardening profile (kernel parameters, etcd account)")
        {
            CreateCheck(env),
            CreateApply(env),
        };
    }

    private static Command CreateCheck(CliEnvironment env)
    {
        var role = new Option<string>("--role") { Description = "Check as a server (default) or an agent node", DefaultValueFactory = _ => "server", HelpName = "server|agent" };
        role.AcceptOnlyFromAmong("server", "agent");
        var output = OutputOption.Create();
        var command = new Command("check", "Run the profile's host preflight on its own: every violation, with current value, expected value and fix")
        {
            HostRootOption, role, output,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.Profile]);
        command.SetAction(parse =>
        {
            var configRole = parse.GetValue(role) == "agent" ? ConfigRole.Agent : ConfigRole.Server;
            var config = GlobalOptions.LoadConfig(parse, env, configRole, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var hostRoot = new HostRoot(parse.GetValue(HostRootOption)!);
            if (!Directory.Exists(hostRoot.Path))
            {
                env.Error.WriteLine($"error: --host-root {hostRoot.Path}: no such directory");
                return ExitCodes.Usage;
            }
            // This command exists to check a profile: with none configured, check the CIS one.
            var profile = config.Profile == HardeningProfile.None ? "cis-1.23" : config.Get(ConfigKeys.Profile);
            var report = new HostPreflight(hostRoot, SysctlProfile.Load(EmbeddedData.BuiltIn)).Run(profile, configRole, Cni.CniSelection.From(config));
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.PreflightReport));
            }
            else
            {
                PreflightRenderer.Write(report, env.Out, env.IsTerminal);
            }
            return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command CreateApply(CliEnvironment env)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would change without changing anything" };
        var command = new Command("apply", "Install the CIS sysctl drop-in, apply it, and create the etcd user and group (idempotent)")
        {
            HostRootOption, dryRun,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var hostRoot = new HostRoot(parse.GetValue(HostRootOption)!);
            var dry = parse.GetValue(dryRun);
            var hardener = new HostHardener(hostRoot, SysctlProfile.Load(EmbeddedData.BuiltIn));
            IReadOnlyList<HardeningChange> changes;
            try
            {
                changes = await hardener.ApplyAsync(dry, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or Processes.ProcessFailedException or Processes.ProgramNotFoundException)
            {
                env.Error.WriteLine($"error: hardening apply failed: {e.Message}");
                env.Error.WriteLine("Run it as root on the host (or with --host-root pointing at a writable host root); changes made so far are kept and are safe to repeat.");
                return ExitCodes.Unavailable;
            }
            foreach (var change in changes)
            {
                var mark = change.Changed ? (dry ? "would change" : "changed") : "ok";
                env.Out.WriteLine($"  {mark,-12} {change.What,-34} {change.Detail}");
            }
            var count = changes.Count(c => c.Changed);
            env.Out.WriteLine(dry
                ? $"{count} change(s) would be made (dry run; nothing was changed)."
                : $"{count} change(s) made. Check with: bulwark hardening check --profile cis-1.23");
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>Prints a preflight report for people: failures first with their fixes, then a one-line verdict.</summary>
internal static class PreflightRenderer
{
    public static void Write(PreflightReport report, TextWriter output, bool color)
    {
        string Paint(string text, string code) => color ? $"\u001b[{code}m{text}\u001b[0m" : text;
        output.WriteLine($"Host preflight: profile {report.Profile}, {report.Role} node, host root {report.HostRoot}");
        foreach (var finding in report.Findings.OrderBy(f => f.Passed))
        {
            var status = finding.Passed ? Paint("PASS", "32") : Paint("FAIL", "31");
            var controls = string.Join(", ", finding.Controls);
            if (finding.Passed)
            {
                output.WriteLine($"  {status}  {finding.Subject,-24} {finding.Current}  [{controls}]");
            }
            else
            {
                output.WriteLine($"  {status}  {finding.Subject,-24} current: {finding.Current}; expected: {finding.Expected}  [{controls}]");
                output.WriteLine($"        fix: {finding.Fix}");
            }
        }
        var failed = report.Violations.Count();
        output.WriteLine(failed == 0
            ? $"All {report.Findings.Count} checks passed."
            : $"{failed} of {report.Findings.Count} checks failed. {report.Advice}");
    }
}
