using System.Globalization;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>
/// A member left running by a Bulwark that died (SIGKILL, crash): found through the pid file and stopped before a new one
/// starts, so two etcds never share a data dir. A recycled pid that is not our etcd is left alone.
/// </summary>
public static class StaleMember
{
    public static async Task<bool> StopAsync(string pidFile, string dataDir, ILogger logger, CancellationToken cancellationToken)
    {
        if (!File.Exists(pidFile))
        {
            return false;
        }
        var text = (await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !IsOurEtcd(pid, dataDir))
        {
            File.Delete(pidFile);
            return false;
        }
        logger.LogWarning("found etcd (pid {Pid}) left running by a previous bulwark run; stopping it before starting a new member", pid);
        Signals.Send(pid, Signals.SigTerm);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        if (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir))
        {
            Signals.Send(pid, Signals.SigKill);
            while (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
        File.Delete(pidFile);
        return true;
    }

    /// <summary>True when the pid runs etcd on this member's data dir (read from /proc; zombies are not "ours").</summary>
    internal static bool IsOurEtcd(int pid, string dataDir)
    {
        try
        {
            var status = File.ReadAllText($"/proc/{pid}/stat");
            var state = status[(status.LastIndexOf(')') + 2)..].Split(' ')[0];
            if (state == "Z")
            {
                return false;
            }
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return args.Any(a => a.EndsWith("etcd", StringComparison.Ordinal)) && args.Contains("--data-dir=" + dataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
