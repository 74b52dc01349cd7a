using System.Globalization;

namespace Bulwark.Processes;

/// <summary>A snapshot of every process in /proc (processes that end while it is read are left out).</summary>
public static class ProcessTable
{
    public static IReadOnlyList<ProcessEntry> Read()
    {
        var entries = new List<ProcessEntry>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                // "pid (comm) S ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                string? exe = null;
                try
                {
                    exe = new FileInfo(Path.Combine(dir, "exe")).LinkTarget;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Kernel threads have no executable.
                }
                entries.Add(new ProcessEntry(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), fields[0][0], exe, argv));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }
        return entries;
    }

    /// <summary>Whether the process exists and is not a zombie (a zombie has exited; only its parent's wait is missing).</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the process runs in a container whose root filesystem is a snapshot under <paramref name="snapshotRoot"/>
    /// (its root mount's overlay layers are there): how a container is recognised after its shim is gone.
    /// </summary>
    public static bool RootIsUnder(int pid, string snapshotRoot)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/mountinfo").Select(l => l.Split(' ')).Any(f => f.Length > 4 && f[4] == "/"
                && string.Join(' ', f).Contains("=" + snapshotRoot.TrimEnd('/') + "/", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The processes and all their descendants.</summary>
    public static IReadOnlyList<ProcessEntry> WithDescendants(IReadOnlyList<ProcessEntry> table, IEnumerable<int> roots)
    {
        var children = table.ToLookup(p => p.ParentPid);
        var byPid = table.ToDictionary(p => p.Pid);
        var found = new Dictionary<int, ProcessEntry>();
        var queue = new Queue<int>(roots.Where(byPid.ContainsKey));
        while (queue.TryDequeue(out var pid))
        {
            if (found.TryAdd(pid, byPid[pid]))
            {
                foreach (var child in children[pid])
                {
                    queue.Enqueue(child.Pid);
                }
            }
        }
        return found.Values.ToList();
    }

    /// <summary>The process and its ancestors up to init: never signalled by killall (it may be their child).</summary>
    public static IReadOnlySet<int> SelfAndAncestors(IReadOnlyList<ProcessEntry> table, int self)
    {
        var byPid = table.ToDictionary(p => p.Pid);
        var chain = new HashSet<int>();
        for (var pid = self; pid > 0 && chain.Add(pid) && byPid.TryGetValue(pid, out var entry);)
        {
            pid = entry.ParentPid;
        }
        return chain;
    }
}
