using System.Globalization;
using System.Net;
using System.Text;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Processes;
using Bulwark.Tests.Server;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Three `bulwark server` processes on 127.0.0.11-13: the first starts a cluster, the others run
/// `bulwark server --server https://127.0.0.11:PORT --token T`; then one server is killed with SIGKILL (the bulwark
/// process and its etcd child, as a power loss would) and started again with the same command.
/// </summary>
public sealed class ServerProcessClusterTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-servers");

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestServerNode NewNode(int index) => TestServerNode.Create($"server-{index}", $"127.0.0.{10 + index}", _dir.Combine($"server-{index}"));

    private string[] Args(TestServerNode node, params string[] extra) => node.Args(_dir.Combine("etc", "config.yaml"), extra);

    private static string Str(int value) => TestServerNode.Str(value);

    [Fact]
    public async Task Bulwark_server_with_server_but_no_token_is_a_usage_error_and_writes_nothing()
    {
        _dir.Write("etc/config.yaml", "# empty\n");
        var node = NewNode(4);
        var result = await CliRunner.RunAsync(["server", "--data-dir", node.DataDir, .. Args(node, "--server", "https://127.0.0.11:9345")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("needs its token: --token T or --token-file FILE", result.Error);
        Assert.False(Directory.Exists(node.DataDir));
    }

    [Fact]
    public async Task A_server_joining_with_another_cni_is_refused_with_both_values_and_writes_no_cluster_state()
    {
        var n1 = NewNode(5);
        var n2 = NewNode(6);
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        await using var s1 = ServerProcess.Start(n1.DataDir, Args(n1, "--cni", "multus,canal"));
        await s1.WaitForLineAsync("[ready]");
        var token = (await File.ReadAllTextAsync(new ServerPkiPaths(n1.DataDir).Token, Ct)).Trim();

        await using var s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token, "--cni", "calico"));
        var exit = await s2.WaitForExitAsync();

        Assert.NotEqual(0, exit);
        Assert.Contains("this server's cni is \"calico\" but the cluster at", s2.Output);
        Assert.Contains("runs cni \"multus,canal\"", s2.Output);
        Assert.Contains("Set cni: multus,canal", s2.Output);
        // Refused before the bootstrap data: no shared CA and no etcd member were written on the joining node.
        Assert.False(File.Exists(Path.Combine(n2.DataDir, "server", "tls", "server-ca.key")));
        Assert.False(new EtcdPaths(n2.DataDir).HasMemberData);
        Assert.DoesNotContain(token[(token.LastIndexOf(':') + 1)..], s2.Output);
    }

    [Fact]
    public async Task Bulwark_server_processes_join_with_the_token_and_a_killed_server_restarts_and_rejoins()
    {
        var n1 = NewNode(1);
        var n2 = NewNode(2);
        var n3 = NewNode(3);
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        await using var s1 = ServerProcess.Start(n1.DataDir, Args(n1));
        await s1.WaitForLineAsync("[ready]");
        // The first server created the PKI and the token (K10<CA hash>::server:<secret>) in its PKI stage.
        var token = (await File.ReadAllTextAsync(new ServerPkiPaths(n1.DataDir).Token, Ct)).Trim();
        Assert.StartsWith("K10", token);
        Assert.Contains($"[supervisor] listening on https://{n1.Ip}:{n1.SupervisorPort}", s1.Output);

        await using var s2 = ServerProcess.Start(n2.DataDir, Args(n2, "--server", n1.Supervisor.ToString(), "--token", token));
        await s2.WaitForLineAsync("[ready]");
        Assert.Contains("[join] joined the cluster through", s2.Output);
        var tokenFile = _dir.Write("token", token + "\n");
        var s3 = ServerProcess.Start(n3.DataDir, Args(n3, "--server", n2.Supervisor.ToString(), "--token-file", tokenFile));
        try
        {
            await s3.WaitForLineAsync("[ready]");

            using var client = new EtcdClient(new EtcdClientOptions([n1.Etcd, n2.Etcd, n3.Etcd], new EtcdPaths(n1.DataDir).ClientTls) { CallTimeout = TimeSpan.FromSeconds(5) });
            var members = (await client.MemberListAsync(Ct));
            Assert.Equal(3, members.Count);
            Assert.All(members, m => Assert.False(m.IsLearner));
            Assert.Equal([n1.Etcd.ToString().TrimEnd('/'), n2.Etcd.ToString().TrimEnd('/'), n3.Etcd.ToString().TrimEnd('/')],
                members.SelectMany(m => m.ClientURLs).Order(StringComparer.Ordinal));

            // A write through one member is read through each of the others.
            using (var c3 = new EtcdClient(new EtcdClientOptions([n3.Etcd], new EtcdPaths(n3.DataDir).ClientTls)))
            {
                await c3.PutAsync("/test/from-3", "three", cancellationToken: Ct);
            }
            foreach (var node in new[] { n1, n2 })
            {
                using var c = new EtcdClient(new EtcdClientOptions([node.Etcd], new EtcdPaths(node.DataDir).ClientTls));
                Assert.Equal("three", Encoding.UTF8.GetString((await c.GetAsync("/test/from-3", Ct))!));
            }

            // kill -9 server 3 (bulwark and its etcd) while writing; the other two keep acknowledging writes.
            var acknowledged = new List<string>();
            var attempts = 0;
            async Task WriteSome(int count)
            {
                for (var i = 0; i < count; i++, attempts++)
                {
                    var key = $"/test/ack/{attempts:D5}";
                    try
                    {
                        await client.PutAsync(key, key, cancellationToken: Ct);
                        acknowledged.Add(key);
                    }
                    catch (EtcdException)
                    {
                    }
                }
            }
            await WriteSome(30);
            var etcd3 = s3.EtcdPid;
            Signals.Send(s3.Pid, Signals.SigKill);
            if (etcd3 is { } pid)
            {
                Signals.Send(pid, Signals.SigKill);
            }
            await s3.WaitForExitAsync();
            await WriteSome(60);
            Assert.True(acknowledged.Count >= 80, $"the two remaining servers must keep accepting writes: {acknowledged.Count} of {attempts} acknowledged");
            await s3.DisposeAsync();

            // The same command again: it finds its member data and rejoins.
            s3 = ServerProcess.Start(n3.DataDir, Args(n3, "--server", n2.Supervisor.ToString(), "--token-file", tokenFile));
            await s3.WaitForLineAsync("[ready]");
            Assert.Contains("[join] restarted member", s3.Output);
            await WriteSome(20);
            members = (await client.MemberListAsync(Ct));
            Assert.Equal(3, members.Count);
            Assert.All(members, m => Assert.False(m.IsLearner));
            foreach (var node in new[] { n1, n2, n3 })
            {
                using var c = new EtcdClient(new EtcdClientOptions([node.Etcd], new EtcdPaths(node.DataDir).ClientTls) { CallTimeout = TimeSpan.FromSeconds(10) });
                var present = (await c.GetPrefixAsync("/test/ack/", Ct)).Select(kv => kv.Key.ToStringUtf8()).ToHashSet();
                var missing = acknowledged.Where(k => !present.Contains(k)).ToList();
                Assert.True(missing.Count == 0, $"{node.Name} lacks {missing.Count} acknowledged writes");
            }
            Assert.DoesNotContain(token[(token.LastIndexOf(':') + 1)..], s1.Output + s2.Output + s3.Output);
        }
        finally
        {
            await s3.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_joining_server_killed_while_its_etcd_learner_exists_resumes_on_restart_and_blocks_no_other_join()
    {
        var n1 = NewNode(5);
        var n2 = NewNode(6);
        var n3 = NewNode(7);
        _dir.Write("etc/config.yaml", "# empty: everything comes from flags\n");
        await using var s1 = ServerProcess.Start(n1.DataDir, Args(n1));
        await s1.WaitForLineAsync("[ready]");
        var token = (await File.ReadAllTextAsync(new ServerPkiPaths(n1.DataDir).Token, Ct)).Trim();
        var join = Args(n2, "--server", n1.Supervisor.ToString(), "--token", token);

        // kill -9 the joining server (bulwark and its etcd) once its learner's WAL exists and before the promotion.
        var paths2 = new EtcdPaths(n2.DataDir);
        var s2 = ServerProcess.Start(n2.DataDir, join);
        try
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
            {
                deadline.CancelAfter(TimeSpan.FromMinutes(2));
                while (!(File.Exists(paths2.JoiningMarker) && paths2.HasMemberData))
                {
                    Assert.False(s2.HasExited, "the joining server exited before its learner started:\n" + s2.Output);
                    await Task.Delay(10, deadline.Token);
                }
            }
            var etcd2 = s2.EtcdPid;
            Signals.Send(s2.Pid, Signals.SigKill);
            if (etcd2 is { } pid)
            {
                Signals.Send(pid, Signals.SigKill);
            }
            await s2.WaitForExitAsync();
            Assert.True(File.Exists(paths2.JoiningMarker), "the kill must land before the promotion");
            await s2.DisposeAsync();

            // The same command again: the interrupted join resumes and ends promoted.
            s2 = ServerProcess.Start(n2.DataDir, join);
            await s2.WaitForLineAsync("[ready]");
            Assert.Contains("previous join stopped before its etcd learner was promoted", s2.Output);
            Assert.Contains("[join] joined the cluster through", s2.Output);
            Assert.False(File.Exists(paths2.JoiningMarker));

            // A third server joins: nothing stuck blocks the learner slot.
            await using var s3 = ServerProcess.Start(n3.DataDir, Args(n3, "--server", n1.Supervisor.ToString(), "--token", token));
            await s3.WaitForLineAsync("[ready]");
            using var client = new EtcdClient(new EtcdClientOptions([n1.Etcd], new EtcdPaths(n1.DataDir).ClientTls));
            var members = await client.MemberListAsync(Ct);
            Assert.Equal(3, members.Count);
            Assert.All(members, m => Assert.False(m.IsLearner));
        }
        finally
        {
            await s2.DisposeAsync();
        }
    }
}
