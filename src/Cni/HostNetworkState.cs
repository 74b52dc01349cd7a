using System.Text.Json.Nodes;
using Bulwark.Processes;

namespace Bulwark.Cni;

/// <summary>
/// What a CNI run can leave on the host: interfaces, iptables chains and rules (IPv4 and IPv6), host-local IPAM
/// allocations. Taken before and after a verify run; leftovers are found by the run's unique container id, so runs
/// beside other workloads (or other tests) do not see each other's changes.
/// </summary>
public sealed record HostNetworkState(IReadOnlySet<string> Interfaces, IReadOnlySet<string> Chains, IReadOnlyList<string> Rules)
{
    public static async Task<HostNetworkState> CaptureAsync(CancellationToken cancellationToken)
    {
        var links = await NetworkNamespace.IpAsync(["-j", "link", "show"], cancellationToken).ConfigureAwait(false);
        var interfaces = (JsonNode.Parse(links.StandardOutput) as JsonArray ?? [])
            .Select(l => l?["ifname"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var chains = new HashSet<string>(StringComparer.Ordinal);
        var rules = new List<string>();
        foreach (var program in new[] { "iptables-save", "ip6tables-save" })
        {
            if (ProgramLocator.Find(program, ["/usr/sbin", "/sbin"]) is not { } path)
            {
                continue;
            }
            var saved = await ProcessRunner.RunAsync(new ProcessSpec(path, []) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            var table = "";
            foreach (var line in saved.StandardOutput.Split('\n'))
            {
                if (line.StartsWith('*'))
                {
                    table = line[1..];
                }
                else if (line.StartsWith(':'))
                {
                    chains.Add($"{program[..^5]}/{table}/{line[1..].Split(' ')[0]}");
                }
                else if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    rules.Add($"{program[..^5]}/{table}: {line}");
                }
            }
        }
        return new HostNetworkState(interfaces, chains, rules);
    }

    /// <summary>Rules that name the container (CNI plugins tag every rule they add with <c>id: "&lt;container id&gt;"</c>).</summary>
    public IEnumerable<string> RulesOf(string containerId) => Rules.Where(r => r.Contains($"id: \\\"{containerId}\\\"", StringComparison.Ordinal));

    /// <summary>host-local allocations still held by the container: files named by IP whose first line is the container id.</summary>
    public static IEnumerable<string> IpamAllocations(string dataDir, string network, string containerId)
    {
        var dir = Path.Combine(dataDir, network);
        if (!Directory.Exists(dir))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var first = File.ReadLines(file).FirstOrDefault()?.Trim();
            if (first == containerId)
            {
                yield return file;
            }
        }
    }
}
