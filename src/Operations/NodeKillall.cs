using Bulwark.Cni;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Bulwark.Runtime;

namespace Bulwark.Operations;

/// <summary>
/// <c>bulwark killall</c>, as rke2-killall.sh: stops everything one node started — its bulwark (gracefully first), etcd,
/// containerd, the shims and every pod under them, runtime-bundle programs — then unmounts what they mounted, and removes
/// the CNI interfaces and iptables chains every supported CNI leaves (policies/cni/*.yaml cleanup lists). Each step
/// prints what it changed; running it again changes nothing.
/// </summary>
public sealed class NodeKillall(NodeLayout layout, CniCatalog catalog, TextWriter output)
{
    /// <summary>How long the node's own bulwark gets to stop its children in order before everything is killed.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(30);

    private readonly RuntimePaths _runtime = RuntimePaths.For(layout);

    /// <summary>Runs every step; returns how many things it changed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var changes = await StopProcessesAsync(cancellationToken).ConfigureAwait(false);
        changes += await UnmountAsync(cancellationToken).ConfigureAwait(false);
        changes += await RemoveInterfacesAsync(cancellationToken).ConfigureAwait(false);
        changes += await IptablesCleaner.RemoveChainsAsync(ChainPrefixes, output, cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(_runtime.RunDir))
        {
            Directory.Delete(_runtime.RunDir, recursive: true);
            Say($"removed {_runtime.RunDir}");
            changes++;
        }
        output.WriteLine(changes == 0 ? "killall: nothing of this node was left running" : $"killall: done ({changes} change(s))");
        return changes;
    }

    private IReadOnlyList<string> ChainPrefixes => catalog.All.SelectMany(s => s.Cleanup.IptablesChainPrefixes).Distinct(StringComparer.Ordinal).ToList();

    private IReadOnlyList<string> InterfacePatterns =>
        catalog.All.SelectMany(s => s.Cleanup.Interfaces).Append(CheckNetwork.BridgePrefix + "*").Distinct(StringComparer.Ordinal).ToList();

    private async Task<int> StopProcessesAsync(CancellationToken cancellationToken)
    {
        var finder = new NodeProcesses(layout);
        var changes = 0;
        if (finder.Supervisor(ProcessTable.Read()) is { } supervisor)
        {
            Say($"stopping bulwark (pid {supervisor.Pid}); it stops its children in order");
            Signals.Send(supervisor.Pid, Signals.SigTerm);
            await WaitForExitAsync([supervisor.Pid], GracePeriod, cancellationToken).ConfigureAwait(false);
            changes++;
        }
        var rest = finder.All(ProcessTable.Read());
        foreach (var process in rest)
        {
            if (Signals.Send(process.Pid, Signals.SigKill))
            {
                Say($"killed {process.Name} (pid {process.Pid})");
                changes++;
            }
        }
        await WaitForExitAsync(rest.Select(p => p.Pid).ToList(), TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        return changes;
    }

    private static async Task WaitForExitAsync(IReadOnlyList<int> pids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (pids.Any(ProcessTable.IsRunning) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Mounts under the data dir, containerd's state, the pods' network namespaces and the kubelet's pod volumes, deepest first.</summary>
    private async Task<int> UnmountAsync(CancellationToken cancellationToken)
    {
        string[] under = [Path.GetFullPath(layout.DataDir).TrimEnd('/') + "/", _runtime.RunDir + "/", "/run/netns/cni-", "/var/run/netns/cni-", "/var/lib/kubelet/pods/"];
        var mounts = MountTable.Read().Where(m => under.Any(p => m.StartsWith(p, StringComparison.Ordinal))).Distinct().OrderByDescending(m => m.Length).ToList();
        var umount = ProgramLocator.Require("umount", "Install util-linux (apt-get install util-linux).");
        foreach (var mount in mounts)
        {
            // Lazy: a mount still held open somewhere is detached now and released when the last user closes it.
            await ProcessRunner.RunCheckedAsync(new ProcessSpec(umount, ["--lazy", mount]) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            Say($"unmounted {mount}");
            if (mount.Contains("/netns/cni-", StringComparison.Ordinal) && File.Exists(mount))
            {
                File.Delete(mount);
            }
        }
        return mounts.Count;
    }

    private async Task<int> RemoveInterfacesAsync(CancellationToken cancellationToken)
    {
        var state = await HostNetworkState.CaptureAsync(cancellationToken).ConfigureAwait(false);
        var patterns = InterfacePatterns;
        var doomed = state.Interfaces.Where(i => patterns.Any(p => Matches(p, i))).Order(StringComparer.Ordinal).ToList();
        var ip = ProgramLocator.Require("ip", "Install iproute2 (apt-get install iproute2).");
        foreach (var name in doomed)
        {
            var result = await ProcessRunner.RunAsync(new ProcessSpec(ip, ["link", "delete", name]) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            // A veth goes with its peer: deleting one end may already have removed this one.
            Say(result.Succeeded ? $"removed interface {name}" : $"interface {name}: {result.StandardError.Trim()}");
        }
        return doomed.Count;
    }

    /// <summary>Cleanup lists use a trailing * for a prefix (cali*), else an exact name.</summary>
    internal static bool Matches(string pattern, string name) =>
        pattern.EndsWith('*') ? name.StartsWith(pattern[..^1], StringComparison.Ordinal) : name == pattern;

    private void Say(string line)
    {
        output.WriteLine("  " + line);
        output.Flush();
    }
}
