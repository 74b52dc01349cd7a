using System.Globalization;

namespace Bulwark.Benchmarks;

/// <summary>A process's memory figures as /proc reports them, in KiB.</summary>
internal static class ProcMemory
{
    /// <summary>A field of /proc/PID/status (VmRSS, RssAnon, RssFile…); 0 when the process is gone.</summary>
    public static long StatusKiB(int pid, string field = "VmRSS")
    {
        var status = $"/proc/{pid}/status";
        if (pid == 0 || !File.Exists(status))
        {
            return 0;
        }
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is null ? 0 : Kib(line);
    }

    /// <summary>
    /// Clears the process's page-referenced bits (/proc/PID/clear_refs, root only), waits <paramref name="window"/> and
    /// sums what it referenced meanwhile: the pages it really uses, as opposed to those still mapped from earlier.
    /// </summary>
    public static async Task<long> TouchedKiBAsync(int pid, TimeSpan window)
    {
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "1");
        await Task.Delay(window);
        return File.ReadLines($"/proc/{pid}/smaps_rollup").Where(l => l.StartsWith("Referenced:", StringComparison.Ordinal)).Sum(Kib);
    }

    /// <summary>The figure of a "Name:   1234 kB" line.</summary>
    private static long Kib(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
