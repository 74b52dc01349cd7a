using System.CommandLine;
using System.Globalization;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Runtime;

namespace Bulwark.Cli;

/// <summary><c>bulwark node check</c>: run a real pod through CRI on this node and print each step with its time.</summary>
internal static class NodeCommand
{
    public static Command Create(CliEnvironment env)
    {
        var check = new Command("check", "Prove this node runs a pod: a sandbox and a container through CRI with the node's CNI, a pod IP from the pod CIDR, a hostPort, a call back to the host; all removed afterwards");
        var flags = ConfigFlags.AddTo(check, [ConfigKeys.DataDir, ConfigKeys.ClusterCidr, ConfigKeys.NodeIp, ConfigKeys.PauseImage,
            ConfigKeys.SystemDefaultRegistry, ConfigKeys.PrivateRegistry, ConfigKeys.DisableDefaultRegistryEndpoint]);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            using var loggers = GlobalOptions.CreateLoggerFactory(config, env);
            try
            {
                var report = await NodeRuntime.CheckAsync(config, step => Write(env.Out, step), line => env.Out.WriteLine(line),
                    loggers.CreateLogger("node-check"), cancellationToken);
                env.Out.WriteLine(report.Passed
                    ? $"node check passed in {report.Steps.Sum(s => s.Duration.TotalSeconds).ToString("0.00", CultureInfo.InvariantCulture)} s"
                    : $"node check FAILED at \"{report.FirstFailure?.Name}\"");
                return report.Passed ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (BulwarkException e)
            {
                env.Error.WriteLine("error: " + e.Message);
                return ExitCodes.For(e.Kind);
            }
        });
        return new Command("node", "Inspect this node's runtime") { check, PauseImage(env) };
    }

    /// <summary><c>bulwark node pause-image</c>: an OCI archive of a stand-in pause image for nodes without the upstream one.</summary>
    private static Command PauseImage(CliEnvironment env)
    {
        var output = new Option<string>("--output-file") { Description = "Archive to write (e.g. <data-dir>/agent/images/pause.tar, imported at start)", HelpName = "FILE", Required = true };
        var image = new Option<string>("--image") { Description = "Image name to give it; set pause-image to the same name", DefaultValueFactory = _ => "bulwark.local/pause:busybox" };
        var command = new Command("pause-image", "Write an OCI archive of a stand-in sandbox (pause) image built from the host's static busybox, for offline nodes and demos that do not have the upstream pause image")
        {
            output, image,
        };
        command.SetAction(parse =>
        {
            var target = Path.GetFullPath(parse.GetValue(output)!);
            var name = parse.GetValue(image)!;
            if (ImageReference.TryParse(name) is null)
            {
                env.Error.WriteLine($"error: --image {name} is not an image reference (registry/repository:tag)");
                return ExitCodes.Usage;
            }
            if (Processes.ProgramLocator.Find("busybox") is not { } busybox)
            {
                env.Error.WriteLine("error: the stand-in pause image is built from the host's static busybox, which is not installed; run: apt-get install busybox-static");
                return ExitCodes.Failed;
            }
            if (Path.GetDirectoryName(target) is { } folder && !Directory.Exists(folder))
            {
                env.Error.WriteLine($"error: {folder} does not exist; create it first");
                return ExitCodes.Usage;
            }
            using (var archive = new MemoryStream())
            {
                ImageArchiveBuilder.WriteStandInPause(archive, name, busybox);
                FileSystem.AtomicFile.WriteAllBytes(target, archive.ToArray(), FileSystem.AtomicFile.Private);
            }
            env.Out.WriteLine($"wrote {target}: {name} (stand-in pause image from {busybox}); set pause-image: {name}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Write(TextWriter output, NodeCheckStep step)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(step.Ok ? "ok  " : "FAIL")} {step.Name,-17} {step.Duration.TotalMilliseconds,6:0} ms  {step.Detail}"));
        if (step.Fix is not null)
        {
            output.WriteLine($"       fix: {step.Fix}");
        }
        output.Flush();
    }
}
