using System.Globalization;
using Bulwark.Etcd;
using Bulwark.Processes;

namespace Bulwark.Tests.Server;

/// <summary>
/// How a real <c>bulwark server</c> (the built binary, real etcd) stops and shares its data dir: signals to the whole
/// process group as systemd, <c>timeout</c> and Ctrl-C send them, and a second process on the same data dir.
/// </summary>
public sealed class ServerLifecycleTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-lifecycle");
    private int[] _ports = [];

    private string DataDir => _dir.Combine("data");

    private string[] Args(int offset = 0) =>
    [
        "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "srv",
        "--etcd-client-port", _ports[offset].ToString(CultureInfo.InvariantCulture),
        "--etcd-peer-port", _ports[offset + 1].ToString(CultureInfo.InvariantCulture),
        "--etcd-metrics-port", _ports[offset + 2].ToString(CultureInfo.InvariantCulture),
        "--supervisor-port", _ports[offset + 3].ToString(CultureInfo.InvariantCulture),
        "--config", _dir.Combine("etc", "config.yaml"),
    ];

    public ValueTask InitializeAsync()
    {
        _ports = FreePorts.Take(8);
        _dir.Write("etc/config.yaml", "# empty: every setting comes from flags\n");
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_process_group_SIGTERM_on_a_ready_server_stops_it_in_order_without_restarting_etcd_and_exits_0()
    {
        await using var server = ServerProcess.Start("server", DataDir, inOwnProcessGroup: true, Args());
        await server.WaitForLineAsync("[ready]");
        var etcd = server.EtcdPid!.Value;

        server.SignalGroup(Signals.SigTerm);

        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.DoesNotContain("restarting", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", server.Output, StringComparison.Ordinal);
        var stops = server.Output.Split('\n').Where(l => l.StartsWith("[stop] ", StringComparison.Ordinal) && l.EndsWith(" stopped", StringComparison.Ordinal)).ToList();
        Assert.Equal(["[stop] snapshots stopped", "[stop] manifests stopped", "[stop] runtime stopped", "[stop] supervisor stopped", "[stop] etcd stopped", "[stop] data-dir stopped"], stops);
        Assert.False(StaleMember.IsOurEtcd(etcd, new EtcdPaths(DataDir).MemberDir), "etcd must be stopped with the server");
    }

    [Fact]
    public async Task A_second_SIGTERM_while_the_server_waits_on_a_stuck_child_ends_it_at_once()
    {
        await using var server = ServerProcess.Start("server", DataDir, inOwnProcessGroup: true, Args());
        await server.WaitForLineAsync("[ready]");
        // A stopped etcd ignores SIGTERM, so the graceful stop would wait its whole grace period (15 s) for it.
        const int sigStop = 19;
        Assert.True(Signals.Send(server.EtcdPid!.Value, sigStop));

        server.Signal(Signals.SigTerm);
        await server.WaitForLineAsync("[stop] signal received");
        server.Signal(Signals.SigTerm);

        // Ended by the signal's default action (128 + 15), not by the graceful stop (exit 0 after etcd's grace period).
        Assert.Equal(128 + Signals.SigTerm, await server.WaitForExitAsync());
        Assert.DoesNotContain("[stop] etcd stopped", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_process_group_SIGINT_before_ready_exits_130_and_leaves_no_etcd_running()
    {
        await using var server = ServerProcess.Start("server", DataDir, inOwnProcessGroup: true, Args());
        await server.WaitForLineAsync("[etcd] starting member");

        server.SignalGroup(2);

        var code = await server.WaitForExitAsync();
        Assert.True(code == 130, $"exit code {code}:\n{server.Output}");
        Assert.Contains("interrupted before ready", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", server.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(new EtcdPaths(DataDir).PidFile));
    }

    [Fact]
    public async Task A_second_server_on_the_same_data_dir_is_refused_with_the_holders_pid_and_touches_nothing()
    {
        await using var first = ServerProcess.Start(DataDir, Args());
        await first.WaitForLineAsync("[ready]");
        var etcd = first.EtcdPid!.Value;
        var files = Snapshot(DataDir);
        // docs/layout.md: the data dir is 0700, the same for first servers, joined servers and agents.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(DataDir));

        await using var second = ServerProcess.Start(DataDir, Args(offset: 4));
        Assert.Equal(1, await second.WaitForExitAsync());

        Assert.Contains($"in use by another bulwark (pid {first.Pid}", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[etcd]", second.Output, StringComparison.Ordinal);
        Assert.True(StaleMember.IsOurEtcd(etcd, new EtcdPaths(DataDir).MemberDir), "the running server's etcd must be left alone");
        Assert.Equal(etcd, first.EtcdPid);
        Assert.False(first.HasExited);
        Assert.Equal(files, Snapshot(DataDir));

        // The agent takes the same lock on its data dir.
        await using var agent = ServerProcess.Start("agent", DataDir, inOwnProcessGroup: false,
            "--server", "https://127.0.0.1:1", "--token", "secret", "--config", _dir.Combine("etc", "config.yaml"));
        Assert.Equal(1, await agent.WaitForExitAsync());
        Assert.Contains($"in use by another bulwark (pid {first.Pid}", agent.Output, StringComparison.Ordinal);
    }

    /// <summary>Every file with its size and write time: a refused second process must change none of them.</summary>
    private static List<string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            // etcd's and containerd's own stores change while they run, and the running server's rotation follower takes
            // server/rotation.lock on its first tick (2 s after start); everything else Bulwark writes must not change.
            .Where(f => !f.Contains("/member/", StringComparison.Ordinal) && !f.Contains("/agent/containerd/", StringComparison.Ordinal) && !f.EndsWith(".log", StringComparison.Ordinal)
                && !f.EndsWith("/server/rotation.lock", StringComparison.Ordinal))
            .Select(f => $"{f} {new FileInfo(f).LastWriteTimeUtc.Ticks}")
            .Order(StringComparer.Ordinal).ToList();
}
