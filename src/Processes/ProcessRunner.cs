using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace Bulwark.Processes;

/// <summary>
/// Runs one-shot programs (sysctl, useradd, etcdctl, openssl, oscap…) to completion through CliWrap: an argument array,
/// captured output, a timeout and cancellation (both kill the process tree). Also builds the start info the long-running
/// supervisor uses, so both start a <see cref="ProcessSpec"/> the same way.
/// </summary>
public static class ProcessRunner
{
    /// <summary>
    /// Removed from every child's environment: etcd and containerd speak sd_notify too, and their READY=1 must not reach
    /// systemd as if Bulwark (the unit's main process) were ready.
    /// </summary>
    private const string SystemdNotifySocket = "NOTIFY_SOCKET";

    public static async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        var (program, arguments) = Invocation(spec);
        var command = CliWrap.Cli.Wrap(program)
            .WithArguments(arguments)
            .WithEnvironmentVariables(variables =>
            {
                variables.Set(SystemdNotifySocket, null);
                foreach (var (name, value) in spec.Environment)
                {
                    variables.Set(name, value);
                }
            })
            .WithValidation(CommandResultValidation.None)
            .WithStandardInputPipe(spec.StandardInput is { } input ? PipeSource.FromBytes(input) : PipeSource.Null);
        if (spec.WorkingDirectory is { } folder)
        {
            command = command.WithWorkingDirectory(folder);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(spec.Timeout);
        try
        {
            // The token is CliWrap's forceful one: cancelling kills the process (and its children) at once.
            var result = await command.ExecuteBufferedAsync(timeout.Token).ConfigureAwait(false);
            return new ProcessResult(result.ExitCode, result.StandardOutput, result.StandardError, result.RunTime);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProcessTimeoutException(spec.Display, spec.Timeout);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException { InnerException: System.ComponentModel.Win32Exception })
        {
            throw new ProgramNotFoundException(spec.FileName, $"It could not be started ({(e.InnerException ?? e).Message}); install it or check the path.");
        }
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(spec, cancellationToken).ConfigureAwait(false);
        return result.Succeeded ? result : throw new ProcessFailedException(spec.Display, result);
    }

    /// <summary>
    /// The program and arguments to execute: the spec's own, behind setpriv dropping to its account and setsid giving it
    /// its own session when asked. Each wrapper execs the next in place (no shell, no fork), so the pid stays the same.
    /// </summary>
    private static (string Program, IReadOnlyList<string> Arguments) Invocation(ProcessSpec spec)
    {
        List<string> argv = [spec.FileName, .. spec.Arguments];
        if ((spec.RunAs is not null || spec.OwnSession) && ProgramLocator.Find(spec.FileName) is null)
        {
            // Behind a wrapper, a missing program would only show as the wrapper's exit code 127: say it here instead.
            throw new ProgramNotFoundException(spec.FileName, "It is not an executable file on this host; install it or check the path.");
        }
        if (spec.RunAs is { } user)
        {
            argv.InsertRange(0, [ProgramLocator.Require("setpriv", "Install util-linux (apt-get install util-linux)."),
                "--reuid", user.User, "--regid", user.Group, "--init-groups", "--"]);
        }
        if (spec.OwnSession)
        {
            // Not a process group leader (Bulwark is), so setsid does not fork.
            argv.Insert(0, ProgramLocator.Require("setsid", "Install util-linux (apt-get install util-linux)."));
        }
        return (argv[0], argv[1..]);
    }

    internal static ProcessStartInfo BuildStartInfo(ProcessSpec spec, bool redirectInput)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? "",
        };
        var (program, arguments) = Invocation(spec);
        info.FileName = program;
        info.Environment.Remove(SystemdNotifySocket);
        foreach (var arg in arguments)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in spec.Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        return info;
    }

    internal static void StartOrExplain(Process process, ProcessSpec spec)
    {
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ProgramNotFoundException(spec.FileName, $"It could not be started ({e.Message}); install it or check the path.");
        }
    }

    internal static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
