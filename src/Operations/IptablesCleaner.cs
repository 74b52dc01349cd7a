using System.Text;
using Bulwark.Processes;

namespace Bulwark.Operations;

/// <summary>
/// Removes the chains a CNI and kube-proxy leave (CNI-, KUBE-, cali-, FLANNEL-, CILIUM_ …) and every rule in them or
/// jumping to them, IPv4 and IPv6, as rke2-killall.sh does: iptables-save, drop those lines, iptables-restore the rest.
/// Other rules on the host are restored as they were.
/// </summary>
public static class IptablesCleaner
{
    public static async Task<int> RemoveChainsAsync(IReadOnlyList<string> prefixes, TextWriter output, CancellationToken cancellationToken)
    {
        var changes = 0;
        foreach (var family in new[] { "iptables", "ip6tables" })
        {
            if (ProgramLocator.Find(family + "-save", ["/usr/sbin", "/sbin"]) is not { } save || ProgramLocator.Find(family + "-restore", ["/usr/sbin", "/sbin"]) is not { } restore)
            {
                continue;
            }
            var saved = await ProcessRunner.RunCheckedAsync(new ProcessSpec(save, []) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            var (kept, chains, rules) = Filter(saved.StandardOutput, prefixes);
            if (chains + rules == 0)
            {
                continue;
            }
            await ProcessRunner.RunCheckedAsync(new ProcessSpec(restore, []) { Timeout = TimeSpan.FromSeconds(30), StandardInput = Encoding.UTF8.GetBytes(kept) },
                cancellationToken).ConfigureAwait(false);
            output.WriteLine($"  {family}: removed {chains} chain(s) and {rules} rule(s) ({string.Join(", ", prefixes.Select(p => p + "*"))})");
            changes += chains + rules;
        }
        return changes;
    }

    /// <summary>The save text without the chains named by the prefixes and the rules in or jumping to them.</summary>
    internal static (string Kept, int Chains, int Rules) Filter(string saved, IReadOnlyList<string> prefixes)
    {
        bool Ours(string chain) => prefixes.Any(p => chain.StartsWith(p, StringComparison.Ordinal));
        var kept = new StringBuilder();
        int chains = 0, rules = 0;
        foreach (var line in saved.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (line.StartsWith(':') && Ours(fields[0][1..]))
            {
                chains++;
                continue;
            }
            if (line.StartsWith("-A ", StringComparison.Ordinal) && (Ours(fields[1]) || JumpTarget(fields) is { } target && Ours(target)))
            {
                rules++;
                continue;
            }
            kept.Append(line).Append('\n');
        }
        return (kept.ToString().TrimEnd('\n') + "\n", chains, rules);
    }

    private static string? JumpTarget(string[] fields)
    {
        var at = Array.FindIndex(fields, f => f is "-j" or "-g" or "--jump" or "--goto");
        return at >= 0 && at + 1 < fields.Length ? fields[at + 1] : null;
    }
}
