using System.Globalization;
using Bulwark.Runtime;
using Bulwark.Tests.Server;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// A real <c>bulwark agent</c> process joining a real <c>bulwark server</c> on a fresh data dir whose agent/images holds
/// only the pause image: it brings up its own containerd, imports the archive, runs a real pod through CRI (node-check),
/// and stops at the kubelet, the one missing piece (not installable here), naming it; no shim or check bridge is left behind.
/// </summary>
public sealed class AgentNodeCheckTests
{
    [Fact]
    public async Task A_fresh_bulwark_agent_joins_runs_a_pod_through_CRI_and_stops_at_the_kubelet_naming_it_with_no_shims_left()
    {
        using var serverDir = new TempDirectory("bwag-srv");
        var ports = FreePorts.Take(4).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray();
        await using var server = ServerProcess.Start(serverDir.Combine("data"), "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "agent-check-srv",
            "--etcd-client-port", ports[0], "--etcd-peer-port", ports[1], "--etcd-metrics-port", ports[2], "--supervisor-port", ports[3], "--etcd-disable-snapshots");
        await server.WaitForLineAsync("[ready]");

        using var node = new RuntimeTestNode();
        node.AddArchive("pause.tar", node.PauseImage, ImageArchiveFormat.Docker);
        var config = node.Temp.Write("etc/agent.yaml", File.ReadAllText(node.ConfigFile) + "\nnode-check: true\n");
        await using var agent = ServerProcess.Start("agent", node.DataDir, inOwnProcessGroup: false, "--config", config, "--node-name", "agent-check",
            "--node-ip", "127.0.0.1", "--server", $"https://127.0.0.1:{ports[3]}", "--token-file", serverDir.Combine("data", "server", "token"));

        var code = await agent.WaitForExitAsync();

        Assert.True(code == 3, $"exit {code}:\n{agent.Output}");
        Assert.Matches(@"\[runtime\] containerd ready \(CRI RuntimeReady\) at .*; images: .*1 archive", agent.Output);
        Assert.Matches(@"\[node-check\] a pod ran through CRI: \d+ steps passed", agent.Output);
        Assert.Contains("the kubelet binary is not in", agent.Output, StringComparison.Ordinal);
        Assert.Empty(ContainerdRuntime.FindShims(ContainerdSettings.From(node.Config()).Paths.Socket));
        // The check's own bridge goes with it: a later check on the same subnet must not route into a dead bridge.
        var bridge = System.Text.RegularExpressions.Regex.Match(agent.Output, @"own bridge network (\S+)").Groups[1].Value;
        Assert.StartsWith(CheckNetwork.BridgePrefix, bridge, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/sys/class/net/" + bridge), $"{bridge} was left behind");
    }
}
