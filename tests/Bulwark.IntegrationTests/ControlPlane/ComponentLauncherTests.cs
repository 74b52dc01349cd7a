using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Processes;

namespace Bulwark.Tests.ControlPlane;

/// <summary>The launch path on real processes. The upstream kube-* binaries are not available here: stand-ins take their names.</summary>
public sealed class ComponentLauncherTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-launch");
    private readonly Dictionary<string, int> _ports = new()
    {
        ["kube-apiserver"] = StandIns.FreePort(),
        ["kube-controller-manager"] = StandIns.FreePort(),
        ["kube-scheduler"] = StandIns.FreePort(),
        ["kube-proxy"] = StandIns.FreePort(),
    };

    public void Dispose() => _dir.Dispose();

    private string DataDir => _dir.Combine("data");
    private string Record => _dir.Combine("record");
    private string BinDir => RuntimeBundle.BinDirectory(DataDir, "v1.32.3-bulwark1");

    private async Task<RenderResult> RenderAsync(string extra = "")
    {
        var file = _dir.Write("etc/config.yaml", $"""
            data-dir: {DataDir}
            profile: cis-1.23
            node-name: node-1
            node-ip: 127.0.0.1
            single-host-demo: true
            kube-apiserver-arg: [secure-port={_ports["kube-apiserver"]}]
            kube-controller-manager-arg: [secure-port={_ports["kube-controller-manager"]}]
            kube-scheduler-arg: [secure-port={_ports["kube-scheduler"]}]
            kube-proxy-arg: [healthz-bind-address=127.0.0.1:{_ports["kube-proxy"]}]
            {extra}
            """);
        var config = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;
        return await new ControlPlaneRenderer().RenderAsync(config, _dir.Combine("etc"), TestContext.Current.CancellationToken);
    }

    private void WriteStandIns(params string[] names)
    {
        Directory.CreateDirectory(Record);
        foreach (var name in names)
        {
            StandIns.Write(BinDir, Record, name, _ports.TryGetValue(name, out var port) ? port : null);
        }
    }

    [Fact]
    public async Task Stand_ins_for_the_unavailable_upstream_binaries_start_in_dependency_order_with_exactly_the_rendered_argv_and_stop_cleanly()
    {
        var result = await RenderAsync();
        WriteStandIns([.. ComponentLauncher.LaunchOrder]);
        Assert.Equal(BinDir, RuntimeBundle.Find(DataDir));
        var launcher = new ComponentLauncher(result, BinDir) { ReadinessTimeout = TimeSpan.FromMinutes(1) };
        Assert.Empty(launcher.MissingBinaries());

        var running = await launcher.StartAsync(TestContext.Current.CancellationToken);
        var processes = running.Processes.ToList();
        var pids = processes.Select(p => p.ProcessId!.Value).ToList();
        try
        {
            Assert.Equal(ComponentLauncher.LaunchOrder, File.ReadAllLines(Path.Combine(Record, "order")));
            foreach (var name in ComponentLauncher.LaunchOrder)
            {
                var argv = File.ReadAllLines(Path.Combine(Record, name + ".argv"));
                Assert.Equal(result.Components[name].Argv, argv);
                var rendered = name == "kubelet"
                    ? File.ReadAllLines(result.Paths.KubeletArgs)
                    : StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest(name)), name).Args;
                Assert.Equal(rendered, argv);
                Assert.Contains($"{name} stand-in starting", File.ReadAllText(Path.Combine(result.Paths.AgentLogs, name + ".log")));
            }
            Assert.All(pids, pid => Assert.True(Signals.IsAlive(pid)));
        }
        finally
        {
            await running.DisposeAsync();
        }
        Assert.All(pids, pid => Assert.False(Signals.IsAlive(pid), $"pid {pid} still running after stop"));
        // 128 + SIGTERM: each ended on the polite signal, none needed SIGKILL.
        Assert.All(processes, p => Assert.Equal(143, p.LastExitCode));
    }

    [Fact]
    public async Task Missing_binaries_are_listed_with_the_two_ways_forward()
    {
        var result = await RenderAsync();
        WriteStandIns("kube-apiserver");
        var launcher = new ComponentLauncher(result, BinDir);
        Assert.Equal(["kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"], launcher.MissingBinaries());
        var error = await Assert.ThrowsAsync<ComponentBinariesMissingException>(() => launcher.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("kube-controller-manager, kube-scheduler, kubelet, kube-proxy", error.Message);
        Assert.Contains("install the runtime bundle", error.Message);
        Assert.Contains("disable-apiserver: true, disable-controller-manager: true and disable-scheduler: true", error.Message);
        Assert.False(File.Exists(Path.Combine(Record, "order")), "nothing may start when binaries are missing");
    }

    [Fact]
    public async Task An_etcd_only_node_launches_nothing_and_needs_no_binaries()
    {
        var result = await RenderAsync("disable-apiserver: true\ndisable-controller-manager: true\ndisable-scheduler: true");
        var launcher = new ComponentLauncher(result, BinDir);
        Assert.Empty(launcher.Components);
        Assert.Empty(launcher.MissingBinaries());
        await using var running = await launcher.StartAsync(TestContext.Current.CancellationToken);
        Assert.Empty(running.Processes);
    }

    [Fact]
    public async Task A_component_that_dies_while_starting_stops_the_launch_and_shows_its_log()
    {
        var result = await RenderAsync();
        WriteStandIns([.. ComponentLauncher.LaunchOrder]);
        File.WriteAllText(Path.Combine(BinDir, "kube-controller-manager"), "#!/bin/sh\necho kube-controller-manager stand-in failing: bad flag >&2\nexit 2\n");
        var launcher = new ComponentLauncher(result, BinDir) { ReadinessTimeout = TimeSpan.FromMinutes(1) };
        var error = await Assert.ThrowsAsync<ComponentStartException>(() => launcher.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("kube-controller-manager exited with code 2", error.Message);
        Assert.Contains("bad flag", error.Message);
        // kube-apiserver had started; it was stopped again, and nothing after the failed component started.
        Assert.Equal(["kube-apiserver"], File.ReadAllLines(Path.Combine(Record, "order")));
    }
}
