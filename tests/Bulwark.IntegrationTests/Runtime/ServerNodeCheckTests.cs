using System.Globalization;
using Bulwark.Processes;
using Bulwark.Runtime;
using Bulwark.Tests.Server;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// A real <c>bulwark server</c> process (real etcd, its own containerd) with <c>node-check: true</c> on a fresh data dir
/// whose agent/images holds only the pause image: the runtime stage imports it and the node-check stage runs a real
/// pod through CRI before the server is ready; a SIGTERM then stops containerd with no shim left behind.
/// </summary>
public sealed class ServerNodeCheckTests
{
    [Fact]
    public async Task A_fresh_bulwark_server_with_node_check_on_runs_a_pod_through_CRI_before_ready_and_stops_with_no_shims_left()
    {
        using var node = new RuntimeTestNode();
        node.AddArchive("pause.tar.zst", node.PauseImage, ImageArchiveFormat.Oci);
        var ports = FreePorts.Take(4).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray();
        var config = node.Temp.Write("etc/server.yaml", File.ReadAllText(node.ConfigFile) + "\nnode-check: true\n");

        await using var server = ServerProcess.Start(node.DataDir, "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "srv", "--etcd-client-port", ports[0],
            "--etcd-peer-port", ports[1], "--etcd-metrics-port", ports[2], "--supervisor-port", ports[3], "--config", config, "--etcd-disable-snapshots");
        await server.WaitForLineAsync("[ready]");

        Assert.Matches(@"\[runtime\] containerd ready \(CRI RuntimeReady\) at .*; images: .*1 archive", server.Output);
        Assert.Matches(@"\[node-check\] a pod ran through CRI: \d+ steps passed", server.Output);
        var paths = ContainerdSettings.From(node.Config()).Paths;
        server.Signal(Signals.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("[stop] runtime stopped", server.Output);
        Assert.Empty(ContainerdRuntime.FindShims(paths.Socket));
        Assert.False(File.Exists(paths.PidFile));
    }
}
