using System.Globalization;

namespace Bulwark.Kms;

/// <summary>The plugin process's tie to the server that started it: it stops when its parent is no longer that process.</summary>
public static class ParentWatch
{
    /// <summary>Completes when the parent pid differs from <paramref name="parentPid"/> (the parent died; the child was re-parented).</summary>
    public static async Task WaitGoneAsync(int parentPid, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (CurrentParent() == parentPid)
        {
            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>getppid() from /proc/self/stat: the field after the command name (which may hold spaces and parentheses).</summary>
    public static int CurrentParent()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
