using System.Globalization;
using Bulwark.FileSystem;
using Bulwark.Operations;
using Bulwark.Processes;
using Bulwark.Runtime;
using Bulwark.Tests.Hardening;
using Bulwark.Tests.Runtime;
using Bulwark.Tests.Server;

namespace Bulwark.Tests.Operations;

/// <summary>
/// <c>bulwark killall</c> and <c>uninstall</c> on a node a real <c>bulwark server</c> made (real etcd, containerd, a
/// container run through its socket), plus leftovers a CNI would leave (a bridge, iptables chains, a mount). They touch
/// host-wide state (interfaces, iptables), so they run alone.
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class KillallUninstallTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-killall");
    private readonly string _suffix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private int[] _ports = [];

    private string DataDir => _dir.Combine("data");
    private string EtcDir => _dir.Combine("etc");
    private RuntimePaths Runtime => RuntimePaths.For(new NodeLayout(DataDir));
    private string Bridge => CheckNetwork.BridgePrefix + "kt" + _suffix;
    private string Chain => "CNI-bwkt-" + _suffix;

    public ValueTask InitializeAsync()
    {
        _ports = FreePorts.Take(4);
        _dir.Write("etc/config.yaml", "# every setting comes from flags\n");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever a failed assertion left: the killall under test is the cleanup.
        await CliRunner.RunAsync("killall", "--data-dir", DataDir);
        _dir.Dispose();
    }

    private ServerProcess StartServer() => ServerProcess.Start(DataDir,
        "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "killall-node",
        "--etcd-client-port", _ports[0].ToString(CultureInfo.InvariantCulture),
        "--etcd-peer-port", _ports[1].ToString(CultureInfo.InvariantCulture),
        "--etcd-metrics-port", _ports[2].ToString(CultureInfo.InvariantCulture),
        "--supervisor-port", _ports[3].ToString(CultureInfo.InvariantCulture),
        "--config", Path.Combine(EtcDir, "config.yaml"));

    private static async Task<ProcessResult> Run(string program, params string[] args)
    {
        var path = ProgramLocator.Require(program, "see the Makefile's APT_PACKAGES");
        return await ProcessRunner.RunCheckedAsync(new ProcessSpec(path, args), TestContext.Current.CancellationToken);
    }

    /// <summary>A container through the node's own containerd (a shim and a sleeping process), as a pod would be.</summary>
    private async Task<int> RunContainerAsync()
    {
        var archive = _dir.Combine("sleeper.tar");
        using (var file = File.Create(archive))
        {
            RuntimeTestNode.WriteImage(file, "bulwark.test/sleeper:" + _suffix, ImageArchiveFormat.Docker);
        }
        string[] ctr = ["--address", Runtime.Socket, "--namespace", RuntimePaths.KubernetesNamespace];
        await Run("ctr", [.. ctr, "images", "import", archive]);
        await Run("ctr", [.. ctr, "run", "-d", "bulwark.test/sleeper:" + _suffix, "sleeper-" + _suffix]);
        var tasks = await Run("ctr", [.. ctr, "tasks", "ls"]);
        var line = tasks.StandardOutput.Split('\n').Single(l => l.StartsWith("sleeper-" + _suffix, StringComparison.Ordinal));
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>What a CNI leaves on the host: a bridge, a chain with a rule jumping to it, and a mount under the data dir.</summary>
    private async Task<string> LeaveCniLeftoversAsync()
    {
        await Run("ip", "link", "add", Bridge, "type", "bridge");
        await Run("iptables", "-N", Chain);
        await Run("iptables", "-A", "FORWARD", "-m", "comment", "--comment", "bulwark killall test " + _suffix, "-j", Chain);
        var mountPoint = Path.Combine(DataDir, "agent", "killall-mount");
        Directory.CreateDirectory(mountPoint);
        await Run("mount", "-t", "tmpfs", "tmpfs", mountPoint);
        return mountPoint;
    }

    [Fact]
    public async Task Killall_stops_a_real_server_its_etcd_containerd_and_a_container_and_removes_mounts_a_bridge_and_chains_then_changes_nothing()
    {
        await using var server = StartServer();
        await server.WaitForLineAsync("[ready]");
        var etcd = server.EtcdPid!.Value;
        var containerd = int.Parse(File.ReadAllText(Runtime.PidFile).Trim(), CultureInfo.InvariantCulture);
        var container = await RunContainerAsync();
        var shims = ContainerdRuntime.FindShims(Runtime.Socket);
        Assert.NotEmpty(shims);
        var mountPoint = await LeaveCniLeftoversAsync();

        var run = await CliRunner.RunAsync("killall", "--data-dir", DataDir);

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains($"stopping bulwark (pid {server.Pid})", run.Out, StringComparison.Ordinal);
        foreach (var pid in new[] { etcd, containerd, container }.Concat(shims))
        {
            Assert.False(ProcessTable.IsRunning(pid), $"pid {pid} still runs\n{run.Out}");
        }
        Assert.DoesNotContain(MountTable.Read(), m => m.StartsWith(DataDir + "/", StringComparison.Ordinal) || m.StartsWith(Runtime.RunDir, StringComparison.Ordinal));
        Assert.Contains($"unmounted {mountPoint}", run.Out, StringComparison.Ordinal);
        Assert.Contains($"removed interface {Bridge}", run.Out, StringComparison.Ordinal);
        var links = await Run("ip", "-o", "link", "show");
        Assert.DoesNotContain(Bridge, links.StandardOutput, StringComparison.Ordinal);
        var rules = await Run("iptables-save");
        Assert.DoesNotContain(Chain, rules.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("*filter", rules.StandardOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Runtime.RunDir));
        Assert.True(File.Exists(Path.Combine(DataDir, "server", "token")), "killall must not remove data");

        var again = await CliRunner.RunAsync("killall", "--data-dir", DataDir);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing of this node was left running", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uninstall_removes_what_install_sh_placed_the_config_and_the_data_of_a_running_server_and_keeps_everything_else()
    {
        var prefix = _dir.Combine("prefix");
        var artifacts = _dir.Combine("artifacts");
        var standIn = _dir.Write("stand-in/bulwark", "#!/bin/sh\necho \"bulwark stand-in $*\"\n");
        File.SetUnixFileMode(standIn, (UnixFileMode)0b111_101_101);
        await Run("bash", Path.Combine(RepoPaths.Root, "scripts", "release.sh"), standIn, artifacts);
        var install = await ProcessRunner.RunCheckedAsync(new ProcessSpec("/bin/sh", [Path.Combine(artifacts, "install.sh")])
        {
            Environment = new Dictionary<string, string?> { ["INSTALL_BULWARK_ARTIFACT_PATH"] = artifacts, ["INSTALL_BULWARK_TAR_PREFIX"] = prefix },
        }, TestContext.Current.CancellationToken);
        var manifest = Path.Combine(prefix, NodeUninstall.ManifestPath);
        var installed = File.ReadAllLines(manifest);
        Assert.Contains(Path.Combine(prefix, "bin", "bulwark"), installed);
        Assert.Contains(Path.Combine(prefix, "lib", "systemd", "system", "bulwark-server.service"), installed);
        var unrelated = _dir.Write("prefix/bin/other-tool", "keep me\n");
        await using var server = StartServer();
        await server.WaitForLineAsync("[ready]");

        var refused = await CliRunner.RunAsync("uninstall", "--prefix", prefix, "--data-dir", DataDir, "--config", Path.Combine(EtcDir, "config.yaml"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("pass --yes", refused.Error, StringComparison.Ordinal);
        Assert.False(server.HasExited);

        var run = await CliRunner.RunAsync("uninstall", "--yes", "--prefix", prefix, "--data-dir", DataDir, "--config", Path.Combine(EtcDir, "config.yaml"));

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.All(installed, f => Assert.False(File.Exists(f), f + " is still there"));
        Assert.False(Directory.Exists(DataDir));
        Assert.False(Directory.Exists(EtcDir));
        Assert.True(File.Exists(unrelated));
        Assert.Contains("uninstall: done", run.Out, StringComparison.Ordinal);

        // Run again (as after an interrupted uninstall), with a config file to name this test's folders.
        _dir.Write("etc/config.yaml", "# again\n");
        var again = await CliRunner.RunAsync("uninstall", "--yes", "--prefix", prefix, "--data-dir", DataDir, "--config", Path.Combine(EtcDir, "config.yaml"));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("no install record", again.Out, StringComparison.Ordinal);
        Assert.Contains(install.StandardOutput.Split('\n'), l => l.Contains("sha256 verified", StringComparison.Ordinal));
    }
}
