using System.Text.RegularExpressions;

namespace Bulwark.Operations;

/// <summary>The mount points of this mount namespace, from /proc/self/mountinfo.</summary>
public static partial class MountTable
{
    public static IReadOnlyList<string> Read() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => Unescape(fields[4]))
            .ToList();

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes (\040 …).</summary>
    internal static string Unescape(string field) =>
        OctalEscape().Replace(field, m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    [GeneratedRegex(@"\\([0-7]{3})")]
    private static partial Regex OctalEscape();
}
