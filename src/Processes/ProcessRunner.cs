using System.Diagnostics;
using System.Text;

namespace Bulwark.Processes;

/// <summary>Runs a program to completion: argument array, captured output, timeout, cancellation.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        using var process = new Process { StartInfo = BuildStartInfo(spec, redirectInput: spec.StandardInput is not null) };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };

        var watch = Stopwatch.StartNew();
        StartOrExplain(process, spec);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (spec.StandardInput is { } input)
        {
            await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(spec.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new ProcessTimeoutException(spec.Display, spec.Timeout);
        }
        // WaitForExitAsync returns after the output streams reach EOF, so the buffers are complete.
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString(), watch.Elapsed);
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(spec, cancellationToken).ConfigureAwait(false);
        return result.Succeeded ? result : throw new ProcessFailedException(spec.Display, result);
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
        // Each wrapper execs the next in place (no shell, no fork): the child keeps the pid Bulwark started.
        var argv = new List<string>();
        if (spec.OwnSession)
        {
            // Not a process group leader (Bulwark is), so setsid does not fork.
            argv.Add(ProgramLocator.Require("setsid", "Install util-linux (apt-get install util-linux)."));
        }
        if (spec.RunAs is { } user)
        {
            // setpriv drops to the account before exec.
            argv.AddRange([ProgramLocator.Require("setpriv", "Install util-linux (apt-get install util-linux)."), "--reuid", user.User, "--regid", user.Group, "--init-groups", "--"]);
        }
        argv.Add(spec.FileName);
        argv.AddRange(spec.Arguments);
        info.FileName = argv[0];
        foreach (var arg in argv.Skip(1))
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
