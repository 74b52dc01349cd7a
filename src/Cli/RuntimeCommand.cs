using System.CommandLine;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Bulwark.Operations;

namespace Bulwark.Cli;

/// <summary><c>bulwark runtime install|status</c>: the upstream Kubernetes binaries in the runtime bundle.</summary>
internal static class RuntimeCommand
{
    public static Command Create(CliEnvironment env) => new("runtime", "Install or list the runtime bundle (the upstream Kubernetes binaries under <data-dir>/data/<version>/bin)")
    {
        CreateInstall(env),
        CreateStatus(env),
    };

    private static Command CreateInstall(CliEnvironment env)
    {
        var source = new Argument<string>("SOURCE") { Description = "kubernetes-server-linux-<arch>.tar.gz, or a folder of its binaries" };
        var sha512 = new Option<string[]>("--sha512")
        {
            Description = "The published sha512 of the archive, or NAME=HEX per binary for a folder (default: the .sha512 files beside them)",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("install", $"Verify the binaries' sha512 digests and their Kubernetes minor ({KubernetesContract.PinnedMinor}), then install them atomically") { source, sha512 };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var installer = new RuntimeBundleInstaller(config.DataDir, KubernetesContract.PinnedMinor);
            try
            {
                var manifest = await installer.InstallAsync(parse.GetRequiredValue(source), parse.GetValue(sha512) ?? [],
                    line => env.Out.WriteLine($"  {line}"), cancellationToken).ConfigureAwait(false);
                env.Out.WriteLine($"installed Kubernetes {manifest.KubernetesVersion} into {Path.Combine(installer.DataRoot, manifest.KubernetesVersion, "bin")} (now active)");
                return ExitCodes.Ok;
            }
            catch (BulwarkException e)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.For(e.Kind);
            }
        });
        return command;
    }

    private static Command CreateStatus(CliEnvironment env)
    {
        var output = OutputOption.Create("table", "json");
        var command = new Command("status", "List the installed runtime bundles, the active one, and whether each binary still has its installed sha512; exit 1 if the active one is missing or changed") { output };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(parse =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var status = RuntimeBundleInventory.Read(config.DataDir);
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(status, RuntimeBundleJsonContext.Default.RuntimeBundleStatus));
            }
            else
            {
                WriteTable(status, env.Out);
            }
            var active = status.Bundles.FirstOrDefault(b => b.Active);
            return active is null || active.Problem is not null ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteTable(RuntimeBundleStatus status, TextWriter output)
    {
        if (status.Bundles.Count == 0)
        {
            output.WriteLine($"no runtime bundle in {status.DataDirectory}; install one with: bulwark runtime install kubernetes-server-linux-amd64.tar.gz");
            return;
        }
        foreach (var bundle in status.Bundles)
        {
            var installed = bundle.InstalledAt is { } at ? $", installed {at:yyyy-MM-dd HH:mm} UTC" : "";
            output.WriteLine($"{(bundle.Active ? "* " : "  ")}{bundle.Version}  {bundle.Path}{installed}");
            foreach (var binary in bundle.Binaries)
            {
                output.WriteLine($"    {binary.Name,-24} {(binary.Intact ? "ok     " : "CHANGED")}  sha512 {(binary.Sha512.Length > 16 ? binary.Sha512[..16] + "…" : "-")}");
            }
            if (bundle.Problem is not null)
            {
                output.WriteLine($"    problem: {bundle.Problem}");
            }
        }
    }
}
