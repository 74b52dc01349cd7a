using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Bulwark.Processes;

/// <summary>
/// A child left running by a Bulwark that was killed (SIGKILL, crash), found through its pid file and stopped (SIGTERM,
/// then SIGKILL) before a new one starts, so two never share a data dir or socket. A recycled pid whose command line
/// is not that child's is left alone.
/// </summary>
public static class LeftoverProcess
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    /// <summary>True when one was found and stopped; the pid file is gone afterwards either way.</summary>
    public static async Task<bool> StopAsync(string name, string pidFile, Func<string[], bool> isOurs, ILogger logger, CancellationToken cancellationToken)
    {
        if (!File.Exists(pidFile))
        {
            return false;
        }
        var text = (await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !Matches(pid, isOurs))
        {
            File.Delete(pidFile);
            return false;
        }
        logger.LogWarning("found {Name} (pid {Pid}) left running by a previous bulwark run; stopping it before starting a new one", name, pid);
        Signals.Send(pid, Signals.SigTerm);
        var deadline = DateTime.UtcNow + Grace;
        while (Matches(pid, isOurs) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        if (Matches(pid, isOurs))
        {
            Signals.Send(pid, Signals.SigKill);
            while (Matches(pid, isOurs))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
        File.Delete(pidFile);
        return true;
    }

    /// <summary>True when the pid is alive (not a zombie) and its command line (from /proc) is the child's.</summary>
    public static bool Matches(int pid, Func<string[], bool> isOurs)
    {
        try
        {
            return ProcessTable.IsRunning(pid) && isOurs(File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
