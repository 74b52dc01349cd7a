using Bulwark.Etcd;
using Bulwark.Processes;

namespace Bulwark.Tests.Server;

/// <summary><c>bulwark server</c> as operators run it: the built binary as a child process, real etcd, real signals.</summary>
public sealed class ServerCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-server");
    private int[] _ports = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DataDir => _dir.Combine("data");

    private string[] Args(params string[] extra) =>
    [
        "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "srv",
        "--etcd-client-port", _ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--etcd-peer-port", _ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--etcd-metrics-port", _ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
        // A free port, not 9345: servers of other tests (and developers) run beside this one.
        "--supervisor-port", _ports[3].ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--config", _dir.Combine("etc", "config.yaml"),
        .. extra,
    ];

    private string[] SnapshotArgs(string verb, params string[] extra) =>
        ["etcd-snapshot", verb, "--config", _dir.Combine("etc", "config.yaml"), "--data-dir", DataDir, "--node-name", "srv", "--etcd-client-port", _ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra];

    private EtcdClient Client() => new(new EtcdClientOptions([new Uri($"https://127.0.0.1:{_ports[0]}")], new EtcdPaths(DataDir).ClientTls));

    public ValueTask InitializeAsync()
    {
        _ports = FreePorts.Take(4);
        _dir.Write("etc/config.yaml", "# empty: every setting comes from flags\n");
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>What systemd's Type=notify sees: READY=1 only after the ready stage, STOPPING=1 on SIGTERM (a real datagram socket stands in for systemd, which does not run here).</summary>
    [Fact]
    public async Task Server_notifies_systemd_ready_after_every_stage_and_stopping_on_SIGTERM()
    {
        var socketPath = _dir.Combine("notify.sock");
        using var systemd = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        systemd.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        await using var server = ServerProcess.Start(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath }, DataDir,
            Args("--disable-apiserver", "--disable-controller-manager", "--disable-scheduler"));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(2));
        var buffer = new byte[4096];
        var ready = System.Text.Encoding.UTF8.GetString(buffer, 0, await systemd.ReceiveAsync(buffer, deadline.Token));
        Assert.StartsWith("READY=1\n", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={server.Pid}", ready, StringComparison.Ordinal);
        await server.WaitForLineAsync("[ready]");

        server.Signal(Signals.SigTerm);
        var stopping = System.Text.Encoding.UTF8.GetString(buffer, 0, await systemd.ReceiveAsync(buffer, deadline.Token));
        Assert.Equal("STOPPING=1", stopping);
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task Server_starts_etcd_serves_etcdctl_and_snapshots_then_stops_cleanly_on_SIGTERM()
    {
        await using var server = ServerProcess.Start(DataDir, Args("--disable-apiserver", "--disable-controller-manager", "--disable-scheduler"));
        await server.WaitForLineAsync("[ready]");
        var etcdPid = server.EtcdPid!.Value;

        Assert.Contains("[components] etcd-only node", server.Output, StringComparison.Ordinal);
        Assert.Contains($"etcd endpoint https://127.0.0.1:{_ports[0]}", server.Output, StringComparison.Ordinal);
        Assert.Equal(AtomicModes.Directory, File.GetUnixFileMode(new EtcdPaths(DataDir).MemberDir));
        Assert.Equal(AtomicModes.File, File.GetUnixFileMode(new EtcdPaths(DataDir).ConfigFile));
        // Operators can use etcdctl with the layout's certs.
        var tls = new EtcdPaths(DataDir);
        var etcdctl = await ProcessRunner.RunCheckedAsync(new ProcessSpec("etcdctl",
            ["--endpoints", $"https://127.0.0.1:{_ports[0]}", "--cacert", tls.ServerCaCert, "--cert", tls.ClientCert, "--key", tls.ClientKey, "put", "/from/etcdctl", "hello"]), Ct);
        Assert.Contains("OK", etcdctl.StandardOutput, StringComparison.Ordinal);

        var save = await CliRunner.RunAsync(SnapshotArgs("save", "--name", "before-upgrade"));
        Assert.True(save.ExitCode == 0, save.Error);
        var list = await CliRunner.RunAsync(SnapshotArgs("list"));
        Assert.Contains("before-upgrade-srv-", list.Out, StringComparison.Ordinal);

        server.Signal(Signals.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("[stop] etcd stopped", server.Output, StringComparison.Ordinal);
        Assert.False(StaleMember.IsOurEtcd(etcdPid, tls.MemberDir));
        Assert.False(File.Exists(tls.PidFile));
    }

    [Fact]
    public async Task Snapshot_list_prune_and_delete_through_the_cli()
    {
        await using var server = ServerProcess.Start(DataDir, Args());
        await server.WaitForLineAsync("[ready]");
        for (var i = 0; i < 3; i++)
        {
            var save = await CliRunner.RunAsync(SnapshotArgs("save", "--name", "pre"));
            Assert.True(save.ExitCode == 0, save.Error);
        }
        Assert.Equal(0, (await CliRunner.RunAsync(SnapshotArgs("save", "--name", "keep"))).ExitCode);

        var prune = await CliRunner.RunAsync(SnapshotArgs("prune", "--name", "pre", "--snapshot-retention", "1"));
        Assert.Equal(0, prune.ExitCode);
        Assert.Contains("2 snapshot(s) pruned", prune.Out, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync(SnapshotArgs("list", "--output", "json"));
        var names = System.Text.Json.JsonDocument.Parse(json.Out).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToList();
        Assert.Equal(2, names.Count);
        Assert.Single(names, n => n.StartsWith("pre-srv-", StringComparison.Ordinal));
        Assert.Single(names, n => n.StartsWith("keep-srv-", StringComparison.Ordinal));

        var delete = await CliRunner.RunAsync(SnapshotArgs("delete", names[0], "no-such-snapshot"));
        Assert.Equal(1, delete.ExitCode);
        Assert.Contains($"deleted {names[0]}", delete.Out, StringComparison.Ordinal);
        Assert.Contains("no snapshot named no-such-snapshot", delete.Error, StringComparison.Ordinal);
        Assert.Single(new SnapshotStore(new EtcdPaths(DataDir).DefaultSnapshotDir).List());
        var traversal = await CliRunner.RunAsync(SnapshotArgs("delete", "../etc"));
        Assert.Equal(1, traversal.ExitCode);
        Assert.Contains("is not a snapshot name", traversal.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SIGTERM_during_a_snapshot_leaves_no_snapshot_and_no_partial_file()
    {
        await using var server = ServerProcess.Start(DataDir, Args());
        await server.WaitForLineAsync("[ready]");
        using (var client = Client())
        {
            var value = new byte[1 << 20];
            Random.Shared.NextBytes(value);
            for (var i = 0; i < 120; i++)
            {
                await client.PutBytesAsync($"/big/{i}", value, Ct);
            }
        }
        var dir = new EtcdPaths(DataDir).DefaultSnapshotDir;
        var info = new System.Diagnostics.ProcessStartInfo(ServerProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in SnapshotArgs("save"))
        {
            info.ArgumentList.Add(a);
        }
        using var save = System.Diagnostics.Process.Start(info)!;
        var stderr = save.StandardError.ReadToEndAsync(Ct);
        while (!save.HasExited && !(Directory.Exists(dir) && Directory.EnumerateFiles(dir, ".*.part").Any()))
        {
            await Task.Delay(1, Ct);
        }
        Assert.False(save.HasExited, "the snapshot finished before it could be interrupted");
        Signals.Send(save.Id, Signals.SigTerm);
        await save.WaitForExitAsync(Ct);

        Assert.Equal(130, save.ExitCode);
        Assert.Contains("interrupted", await stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(dir));
        Assert.Equal(0, (await CliRunner.RunAsync(SnapshotArgs("save"))).ExitCode);
        Assert.Single(new SnapshotStore(dir).List());
    }

    [Fact]
    public async Task A_snapshot_never_appears_without_its_metadata_even_when_the_save_is_killed_the_moment_it_appears()
    {
        await using var server = ServerProcess.Start(DataDir, Args());
        await server.WaitForLineAsync("[ready]");
        var dir = new EtcdPaths(DataDir).DefaultSnapshotDir;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var info = new System.Diagnostics.ProcessStartInfo(ServerProcess.Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in SnapshotArgs("save"))
            {
                info.ArgumentList.Add(a);
            }
            using var save = System.Diagnostics.Process.Start(info)!;
            _ = save.StandardError.ReadToEndAsync(Ct);
            _ = save.StandardOutput.ReadToEndAsync(Ct);
            var known = new SnapshotStore(dir).List().Select(e => e.Path).ToHashSet();
            // A tight poll: SIGKILL the instant a new snapshot file is visible, the point where the metadata used to be missing.
            await Task.Run(() =>
            {
                while (!save.HasExited)
                {
                    if (Directory.Exists(dir) && Directory.EnumerateFiles(dir).Any(f => !known.Contains(f) && !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(SnapshotStore.MetadataSuffix, StringComparison.Ordinal)))
                    {
                        Signals.Send(save.Id, Signals.SigKill);
                        return;
                    }
                }
            }, Ct);
            await save.WaitForExitAsync(Ct);
            Assert.All(new SnapshotStore(dir).List(), e => Assert.True(e.HasMetadata, $"{e.Path} has no metadata"));
        }
    }

    [Fact]
    public async Task A_full_server_renders_the_control_plane_and_says_which_upstream_binaries_are_missing_as_they_are_not_installable_here()
    {
        await using var server = ServerProcess.Start(DataDir, Args("--disable-scheduler"));
        await server.WaitForLineAsync("[ready]");

        // The control plane is rendered (upstream binaries are not installable here), then not launched, with the ways forward.
        Assert.Contains("[render] rendered ", server.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(DataDir, "agent", "pod-manifests", "kube-apiserver.yaml")));
        Assert.False(File.Exists(Path.Combine(DataDir, "agent", "pod-manifests", "kube-scheduler.yaml")));
        var launch = server.Output.Split('\n').Single(l => l.StartsWith("[components] not launched:", StringComparison.Ordinal));
        Assert.Contains("lacks kube-apiserver, kube-controller-manager", launch, StringComparison.Ordinal);
        Assert.DoesNotContain("kube-scheduler,", launch, StringComparison.Ordinal);
        Assert.Contains("install the runtime bundle", launch, StringComparison.Ordinal);
        Assert.Contains("disable-apiserver: true", launch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SIGTERM_during_start_stops_etcd_and_the_next_start_finds_the_data_intact()
    {
        await using (var first = ServerProcess.Start(DataDir, Args()))
        {
            await first.WaitForLineAsync("[ready]");
            using var client = Client();
            await client.PutAsync("/kept", "across-restarts", cancellationToken: Ct);
            first.Signal(Signals.SigTerm);
            Assert.Equal(0, await first.WaitForExitAsync());
        }

        await using (var second = ServerProcess.Start(DataDir, Args()))
        {
            await second.WaitForLineAsync("[etcd] starting member");
            second.Signal(Signals.SigTerm);
            Assert.Equal(130, await second.WaitForExitAsync());
            Assert.Contains("interrupted before ready", second.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(new EtcdPaths(DataDir).PidFile));
        }

        await using var third = ServerProcess.Start(DataDir, Args());
        await third.WaitForLineAsync("[ready]");
        using var after = Client();
        Assert.Equal("across-restarts", System.Text.Encoding.UTF8.GetString((await after.GetAsync("/kept", Ct))!));
    }

    [Fact]
    public async Task An_etcd_left_running_by_a_killed_bulwark_is_stopped_before_the_next_start()
    {
        // Not disposed until the end: its cleanup would kill the orphan this test wants the next start to find.
        var crashed = ServerProcess.Start(DataDir, Args());
        try
        {
            await crashed.WaitForLineAsync("[ready]");
            var orphan = crashed.EtcdPid!.Value;
            crashed.Signal(Signals.SigKill);
            await crashed.WaitForExitAsync();
            Assert.True(StaleMember.IsOurEtcd(orphan, new EtcdPaths(DataDir).MemberDir), "etcd should outlive a SIGKILLed bulwark");

            await using var next = ServerProcess.Start(DataDir, Args());
            await next.WaitForLineAsync("[ready]");

            Assert.Contains($"found etcd (pid {orphan}) left running by a previous bulwark run", next.Output, StringComparison.Ordinal);
            Assert.False(StaleMember.IsOurEtcd(orphan, new EtcdPaths(DataDir).MemberDir));
            Assert.NotEqual(orphan, next.EtcdPid);
        }
        finally
        {
            await crashed.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restore_from_a_named_snapshot_through_the_cli_brings_back_exactly_the_snapshot_state()
    {
        Dictionary<string, string> expected;
        await using (var first = ServerProcess.Start(DataDir, Args()))
        {
            await first.WaitForLineAsync("[ready]");
            using var client = Client();
            await client.PutAsync("/a", "1", cancellationToken: Ct);
            await client.PutAsync("/c", "kept", cancellationToken: Ct);
            expected = (await client.GetPrefixAsync("/", Ct)).ToDictionary(k => k.Key.ToStringUtf8(), k => k.Value.ToStringUtf8());
            var save = await CliRunner.RunAsync(SnapshotArgs("save", "--name", "pre", "--compress"));
            Assert.True(save.ExitCode == 0, save.Error);
            await client.PutAsync("/a", "2", cancellationToken: Ct);
            await client.PutAsync("/b", "new", cancellationToken: Ct);
            await client.DeleteAsync("/c", Ct);
            first.Signal(Signals.SigTerm);
            Assert.Equal(0, await first.WaitForExitAsync());
        }
        var name = new SnapshotStore(new EtcdPaths(DataDir).DefaultSnapshotDir).List().Single().Name;

        await using (var restore = ServerProcess.Start(DataDir, Args("--cluster-reset", "--cluster-reset-restore-path", name)))
        {
            Assert.Equal(0, await restore.WaitForExitAsync());
            Assert.Contains("previous member data kept in", restore.Output, StringComparison.Ordinal);
        }

        await using var after = ServerProcess.Start(DataDir, Args());
        await after.WaitForLineAsync("[ready]");
        using var check = Client();
        Assert.Equal(expected, (await check.GetPrefixAsync("/", Ct)).ToDictionary(k => k.Key.ToStringUtf8(), k => k.Value.ToStringUtf8()));
        Assert.False(File.Exists(new EtcdPaths(DataDir).ResetFlag));
    }

    [Fact]
    public async Task Cluster_reset_exits_0_with_guidance_and_a_second_reset_is_refused()
    {
        await using (var first = ServerProcess.Start(DataDir, Args()))
        {
            await first.WaitForLineAsync("[ready]");
            first.Signal(Signals.SigTerm);
            Assert.Equal(0, await first.WaitForExitAsync());
        }
        await using (var reset = ServerProcess.Start(DataDir, Args("--cluster-reset")))
        {
            Assert.Equal(0, await reset.WaitForExitAsync());
            Assert.Contains("Restart bulwark server without --cluster-reset", reset.Output, StringComparison.Ordinal);
            Assert.Contains("back up and delete", reset.Output, StringComparison.Ordinal);
        }
        await using var again = ServerProcess.Start(DataDir, Args("--cluster-reset"));
        Assert.Equal(1, await again.WaitForExitAsync());
        Assert.Contains("previously reset", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_the_etcd_profile_etcd_runs_as_the_etcd_user_owns_its_data_dir_and_the_pki_stays_root_owned()
    {
        // The test's temp folder stands in for /var/lib: the etcd account must be able to pass through it.
        File.SetUnixFileMode(_dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        await using var server = ServerProcess.Start(DataDir, Args("--profile", "etcd"));
        await server.WaitForLineAsync("[ready]");
        var etcdUid = Bulwark.Hardening.HostAccounts.IdOf(Bulwark.Hardening.HostRoot.Real, "/etc/passwd", "etcd")!.Value;

        var status = await File.ReadAllLinesAsync($"/proc/{server.EtcdPid}/status", Ct);
        var uid = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Equal(etcdUid.ToString(System.Globalization.CultureInfo.InvariantCulture), uid);
        var stat = await ProcessRunner.RunCheckedAsync(new ProcessSpec("stat", ["-c", "%U:%G %a", new EtcdPaths(DataDir).MemberDir, new EtcdPaths(DataDir).ConfigFile]), Ct);
        // etcd takes its settings as flags: their record stays root:root 0600 (CIS 1.12's 1.1.7/1.1.8).
        Assert.Equal(["etcd:etcd 700", "root:root 600"], stat.StandardOutput.Trim().Split('\n'));
        Assert.Contains("as user etcd", server.Output, StringComparison.Ordinal);
        // etcd reads its own copies of its certificates; the PKI itself stays root:root 0600 (CIS 1.1.19-1.1.21).
        var paths = new EtcdPaths(DataDir);
        var pki = await ProcessRunner.RunCheckedAsync(new ProcessSpec("stat", ["-c", "%U:%G %a", paths.TlsDir, paths.ServerKey, paths.PeerKey]), Ct);
        Assert.Equal(["root:root 700", "root:root 600", "root:root 600"], pki.StandardOutput.Trim().Split('\n'));
        var copy = await ProcessRunner.RunCheckedAsync(new ProcessSpec("stat", ["-c", "%U:%G %a", Path.Combine(paths.AccountTlsDir, "server-client.key")]), Ct);
        Assert.Equal("etcd:etcd 600", copy.StandardOutput.Trim());
        Assert.Contains(paths.AccountTlsDir, await File.ReadAllTextAsync(paths.ConfigFile, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_violations_are_all_listed_exit_1_and_nothing_is_written()
    {
        var hostRoot = _dir.Combine("host");
        Directory.CreateDirectory(hostRoot);
        var fresh = _dir.Combine("never-created");

        var result = await CliRunner.RunAsync(["server", "--data-dir", fresh, "--profile", "cis-1.23", "--host-root", hostRoot, .. Args()]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("host checks failed; nothing was written", result.Out, StringComparison.Ordinal);
        Assert.Contains("vm.overcommit_memory", result.Out, StringComparison.Ordinal);
        Assert.Contains("etcd user", result.Out, StringComparison.Ordinal);
        Assert.False(Directory.Exists(fresh));
    }

    [Fact]
    public async Task Disable_etcd_without_a_server_to_join_is_refused_with_the_fix_and_nothing_written()
    {
        var result = await CliRunner.RunAsync(["server", "--data-dir", DataDir, "--disable-etcd", .. Args()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("disable-etcd", result.Error, StringComparison.Ordinal);
        Assert.Contains("must join a server that does: set server: https://<etcd server>:9345", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(new EtcdPaths(DataDir).DbDir));
        Assert.False(File.Exists(new EtcdPaths(DataDir).RemoteEndpointsFile));
    }

    [Fact]
    public async Task Disable_etcd_with_disable_apiserver_is_refused_since_the_server_would_run_neither()
    {
        var result = await CliRunner.RunAsync(["server", "--data-dir", DataDir, "--disable-etcd", "--disable-apiserver", "--server", "https://127.0.0.1:9", "--token", "t", .. Args()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("neither etcd nor kube-apiserver", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(DataDir) && Directory.EnumerateFileSystemEntries(DataDir).Any());
    }

    [Fact]
    public async Task The_server_makes_its_PKI_and_token_once_and_reuses_them_on_restart()
    {
        await using (var first = ServerProcess.Start(DataDir, Args()))
        {
            await first.WaitForLineAsync("[ready]");
            Assert.Matches(@"\[crypto\] fips-mode on: \d+ power-on self-tests passed", first.Output);
            Assert.Matches(@"\[pki\] [1-9]\d* created, 0 renewed, 0 reused", first.Output);
            var paths = new EtcdPaths(DataDir);
            Assert.Contains($"token file {paths.TokenFile}", first.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("not present", first.Output, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.ServerKey));
            first.Signal(Signals.SigTerm);
            Assert.Equal(0, await first.WaitForExitAsync());
        }
        // Restarted on another peer port: the membership is corrected so peers could reach it.
        _ports[1] = FreePorts.Take(1)[0];
        await using var second = ServerProcess.Start(DataDir, Args());
        await second.WaitForLineAsync("[ready]");
        Assert.Matches(@"\[pki\] 0 created, 0 renewed, [1-9]\d* reused", second.Output);
        Assert.Contains($"peer URL updated from https://127.0.0.1:", second.Output, StringComparison.Ordinal);
        using var client = Client();
        Assert.Equal([$"https://127.0.0.1:{_ports[1]}"], (await client.MemberListAsync(Ct)).Single().PeerURLs);
    }

    [Fact]
    public async Task A_bad_snapshot_cron_is_a_configuration_error()
    {
        var result = await CliRunner.RunAsync(["server", "--data-dir", DataDir, "--etcd-snapshot-schedule-cron", "0 */12 * *", .. Args()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("etcd-snapshot-schedule-cron", result.Error, StringComparison.Ordinal);
        Assert.Contains("has 4 fields", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_commands_report_a_stopped_server_clearly()
    {
        var noPki = await CliRunner.RunAsync(SnapshotArgs("save"));
        Assert.Equal(3, noPki.ExitCode);
        Assert.Contains("does not exist", noPki.Error, StringComparison.Ordinal);
        Assert.Contains("--data-dir", noPki.Error, StringComparison.Ordinal);

        await OpenSslEtcdCerts.CreateAsync(DataDir, Ct);
        var result = await CliRunner.RunAsync(SnapshotArgs("save"));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Is bulwark server running", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(new EtcdPaths(DataDir).DefaultSnapshotDir) && Directory.EnumerateFiles(new EtcdPaths(DataDir).DefaultSnapshotDir).Any());
    }

    private static class AtomicModes
    {
        public const UnixFileMode Directory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        public const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    }
}
