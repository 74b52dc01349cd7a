using System.CommandLine;
using Bulwark.Diagnostics;

namespace Bulwark.Cli;

/// <summary>The command tree. Thin: each command parses, calls one capability, renders the result.</summary>
public static class BulwarkCli
{
    public static RootCommand Build(CliEnvironment env)
    {
        var root = new RootCommand("Bulwark: a hardened, compliance-first Kubernetes distribution (RKE2-compatible configuration).");
        GlobalOptions.AddTo(root);
        // Help lists commands in this order: running nodes first, then operations, then inspection.
        root.Subcommands.Add(ServerCommand.Create(env));
        root.Subcommands.Add(AgentCommand.Create(env));
        root.Subcommands.Add(EtcdSnapshotCommand.Create(env));
        root.Subcommands.Add(CertificateCommand.Create(env));
        root.Subcommands.Add(SecretsEncryptCommand.Create(env));
        root.Subcommands.Add(TokenCommand.Create(env));
        root.Subcommands.Add(NodeCommand.Create(env));
        root.Subcommands.Add(HardeningCommand.Create(env));
        root.Subcommands.Add(FipsCommand.Create(env));
        root.Subcommands.Add(AuditCommand.Create(env));
        root.Subcommands.Add(ScanCommand.Create(env));
        root.Subcommands.Add(AirgapCommand.Create(env));
        root.Subcommands.Add(CniCommand.Create(env));
        root.Subcommands.Add(ConfigCommand.Create(env));
        root.Subcommands.Add(RuntimeCommand.Create(env));
        root.Subcommands.Add(KillallCommand.Create(env));
        root.Subcommands.Add(UninstallCommand.Create(env));
        root.Subcommands.Add(VersionCommand.Create(env));
        root.Subcommands.Add(KmsPluginCommand.Create(env));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken = default)
    {
        var root = Build(env);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                env.Error.WriteLine($"error: {error.Message}");
            }
            env.Error.WriteLine("Run 'bulwark --help' (or 'bulwark COMMAND --help') for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            // ProcessTerminationTimeout null: Program's handler is the one that turns SIGINT/SIGTERM into cancellation.
            // System.CommandLine's own would return after 2 s while a server still stops etcd and containerd (leaving
            // them orphaned), and it blocks the runtime's signal thread, which also reports child exits, meanwhile.
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = env.Out, Error = env.Error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            }, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            env.Error.WriteLine("bulwark: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (BulwarkException e) when (e.Kind != ErrorKind.Bug)
        {
            // Raised where the problem is known, with what, where and the fix; this is the one place it becomes an exit code.
            env.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.For(e.Kind);
        }
    }
}
