using System.Globalization;
using System.Net;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Bulwark.Tests.ControlPlane;
using Bulwark.Tests.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Split node roles on real `bulwark server` and `bulwark agent` processes with real etcd 3.4 (127.0.0.71-79), each
/// role set in its own config.yaml with RKE2's keys: etcd-only servers (disable-apiserver, -controller-manager,
/// -scheduler), a control-plane-only server (disable-etcd) joined to them, and an agent joined to that. kube-apiserver
/// is not installable here: the boundary is its rendered static pod (--etcd-servers lists every etcd member, its etcd
/// client files exist, are 0600 and chain to the etcd CA; <see cref="NodeContract"/> with real openssl).
/// </summary>
public sealed class SplitRoleClusterTests : IDisposable
{
    private const string EtcdOnly = "disable-apiserver: true\ndisable-controller-manager: true\ndisable-scheduler: true\n";
    private readonly TempDirectory _dir = new("bulwark-split");

    public SplitRoleClusterTests()
    {
        // Like /var/lib: the etcd account may pass through the folder above the data dirs.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("711", 8));
    }

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Node(string Name, IPAddress Ip, string Root, int SupervisorPort, int ClientPort)
    {
        public string DataDir => Path.Combine(Root, "data");
        public string Config => Path.Combine(Root, "etc", "config.yaml");
        public Uri Supervisor => new($"https://{Ip}:{SupervisorPort}");
        public string TokenFile => new ServerPkiPaths(DataDir).Token;
        public string EtcdUrl => $"https://{Ip}:{ClientPort}";
    }

    private Node NewNode(int index, string config)
    {
        var ip = IPAddress.Parse($"127.0.0.{70 + index}");
        var node = new Node($"split-{index}", ip, _dir.Combine($"node-{index}"), ClusterHarness.FreePort(ip), FreeClientPort(ip));
        _dir.Write($"node-{index}/etc/config.yaml", config);
        return node;
    }

    /// <summary>etcd listens on the client port at loopback and at the node address: free on both.</summary>
    private static int FreeClientPort(IPAddress ip)
    {
        while (true)
        {
            var port = ClusterHarness.FreePort(IPAddress.Loopback);
            try
            {
                using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(ip, port));
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }
    }

    private static ServerProcess Start(Node node) => ServerProcess.Start(node.DataDir,
        "--config", node.Config, "--node-name", node.Name, "--node-ip", node.Ip.ToString(), "--single-host-demo", "--bind-address", node.Ip.ToString(),
        "--supervisor-port", Str(node.SupervisorPort), "--etcd-client-port", Str(node.ClientPort), "--etcd-peer-port", Str(ClusterHarness.FreePort(node.Ip)),
        "--etcd-metrics-port", Str(ClusterHarness.FreePort(IPAddress.Loopback)), "--etcd-disable-snapshots");

    private static string Joining(Node via) => $"server: {via.Supervisor}\ntoken-file: {via.TokenFile}\n";

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string> ApiserverArgs(Node node)
    {
        var manifest = Path.Combine(node.DataDir, "agent", "pod-manifests", "kube-apiserver.yaml");
        return StaticPod.Parse(File.ReadAllText(manifest), manifest).Args.Select(a => a.TrimStart('-').Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "true");
    }

    /// <summary>The voting members' client URLs, as etcd itself lists them (asked with the etcd server's own client certificate).</summary>
    private static async Task<HashSet<string>> MemberClientUrlsAsync(Node etcdServer)
    {
        using var client = new EtcdClient(new EtcdClientOptions([new Uri(etcdServer.EtcdUrl)], new EtcdPaths(etcdServer.DataDir).ClientTls));
        return (await client.MemberListAsync(Ct)).Where(m => !m.IsLearner).SelectMany(m => m.ClientURLs).ToHashSet();
    }

    /// <summary>Processes whose command line names an etcd binary and this data dir (a member of this node).</summary>
    private static List<int> EtcdProcessesOf(Node node) =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0).Where(pid =>
        {
            try
            {
                var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
                return Path.GetFileName(argv[0]) == "etcd" && argv.Any(a => a.Contains(node.DataDir, StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return false;
            }
        })];

    private static async Task AssertConsistentAsync(NodeContract contract, string what)
    {
        var problems = await contract.CheckAsync(Ct);
        Assert.True(problems.Count == 0, $"{what}:\n" + string.Join("\n", problems));
    }

    [Fact]
    public async Task An_etcd_only_server_a_control_plane_only_server_and_an_agent_form_a_cluster_whose_apiserver_uses_the_etcd_members_up_to_the_kube_apiserver_binary()
    {
        var etcd = NewNode(1, EtcdOnly);
        await using var etcdServer = Start(etcd);
        await etcdServer.WaitForLineAsync("[ready]");
        Assert.Contains("etcd-only node", etcdServer.Output, StringComparison.Ordinal);

        var control = NewNode(2, "disable-etcd: true\n" + Joining(etcd));
        await using var controlServer = Start(control);
        await controlServer.WaitForLineAsync("[ready]");
        Assert.Contains($"[join] joined the cluster through {etcd.Supervisor} as a control-plane-only server: no local etcd", controlServer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[etcd]", controlServer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[snapshots]", controlServer.Output, StringComparison.Ordinal);
        // Its way forward is the runtime bundle, never an etcd-only node (it runs no etcd).
        Assert.Contains("this control-plane-only server (disable-etcd) exists to run them", controlServer.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("etcd-only node", controlServer.Output, StringComparison.Ordinal);

        // The agent joins through the control-plane-only server's supervisor, which keeps node passwords in the remote etcd.
        var agentDir = _dir.Combine("agent");
        _dir.Write("agent-etc/config.yaml", $"server: {control.Supervisor}\ntoken-file: {etcd.TokenFile}\n");
        await using (var agent = ServerProcess.Start("agent", agentDir, inOwnProcessGroup: false, "--config", _dir.Combine("agent-etc", "config.yaml"),
            "--node-name", "split-agent", "--node-ip", "127.0.0.1"))
        {
            // The agent stops at the kubelet (not installable here) after writing everything the kubelet would read.
            var code = await agent.WaitForExitAsync();
            Assert.True(code == 3, $"agent exit {code}:\n{agent.Output}");
        }

        // kube-apiserver's datastore is the cluster's etcd: every voting member, as etcd lists them.
        var members = await MemberClientUrlsAsync(etcd);
        Assert.Equal(etcd.EtcdUrl, Assert.Single(members));
        Assert.Equal(etcd.EtcdUrl, ApiserverArgs(control)["etcd-servers"]);
        Assert.Equal(etcd.EtcdUrl, Assert.Single(File.ReadAllLines(new EtcdPaths(control.DataDir).RemoteEndpointsFile)));
        await AssertConsistentAsync(new NodeContract(control.DataDir, control.Name) { EtcdMemberDataDirs = [etcd.DataDir] }, "control-plane-only server");
        await AssertConsistentAsync(new NodeContract(agentDir, "split-agent") { ApiServerDataDir = control.DataDir }, "agent of the control-plane-only server");

        // No etcd here: no process, no member data (server/db), no etcd stage.
        Assert.Empty(EtcdProcessesOf(control));
        Assert.Single(EtcdProcessesOf(etcd));
        Assert.False(Directory.Exists(new EtcdPaths(control.DataDir).DbDir));
        using (var client = new EtcdClient(new EtcdClientOptions([new Uri(etcd.EtcdUrl)], new EtcdPaths(etcd.DataDir).ClientTls)))
        {
            Assert.NotNull(await client.GetAsync(SupervisorDatastore.NodePasswordPrefix + "split-agent", Ct));
        }

        // Snapshots are an etcd server's job: refused here with the reason and where to run them.
        var snapshot = await CliRunner.RunAsync(["etcd-snapshot", "save", "--config", control.Config, "--data-dir", control.DataDir]);
        Assert.Equal(2, snapshot.ExitCode);
        Assert.Contains("control-plane-only server; it runs no etcd member", snapshot.Error, StringComparison.Ordinal);

        // A restart finds the members from what it knows, without another join.
        await controlServer.DisposeAsync();
        await using var restarted = Start(control);
        await restarted.WaitForLineAsync("[ready]");
        Assert.Contains("[join] control-plane-only: no local etcd; datastore is the cluster's 1 etcd member(s)", restarted.Output, StringComparison.Ordinal);
        Assert.Empty(EtcdProcessesOf(control));
    }

    [Fact]
    public async Task A_control_plane_only_server_lists_every_etcd_member_and_keeps_working_and_restarts_when_the_server_it_joined_through_is_gone()
    {
        var first = NewNode(5, EtcdOnly);
        await using var firstServer = Start(first);
        await firstServer.WaitForLineAsync("[ready]");
        var second = NewNode(6, EtcdOnly + Joining(first));
        await using var secondServer = Start(second);
        await secondServer.WaitForLineAsync("[ready]");
        var third = NewNode(7, EtcdOnly + Joining(first));
        await using var thirdServer = Start(third);
        await thirdServer.WaitForLineAsync("[ready]");
        var control = NewNode(8, "disable-etcd: true\n" + Joining(first));
        await using var controlServer = Start(control);
        await controlServer.WaitForLineAsync("[ready]");

        HashSet<string> all = [first.EtcdUrl, second.EtcdUrl, third.EtcdUrl];
        Assert.True(all.SetEquals(await MemberClientUrlsAsync(first)), "the etcd members are the three etcd servers");
        Assert.True(all.SetEquals(ApiserverArgs(control)["etcd-servers"].Split(',')), $"--etcd-servers {ApiserverArgs(control)["etcd-servers"]} lists every member");
        await AssertConsistentAsync(new NodeContract(control.DataDir, control.Name) { EtcdMemberDataDirs = [first.DataDir, second.DataDir, third.DataDir] },
            "control-plane-only server of three etcd servers");

        // The server it joined through goes away (etcd and supervisor): its own supervisor still reaches the datastore.
        await firstServer.DisposeAsync();
        var crypto = CryptoService.For(FipsMode.On);
        var token = ClusterToken.Parse(File.ReadAllText(control.TokenFile).Trim());
        using (var supervisor = await SupervisorClient.ConnectAsync(control.Supervisor, token, ClusterToken.ServerUser, crypto, NullLogger.Instance, Ct))
        {
            var (status, body) = await supervisor.RawAsync(HttpMethod.Get, "/v1/readyz", Ct, authenticate: false);
            Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
            var view = await supervisor.GetEtcdMembersAsync(Ct);
            Assert.Equal(3, view.Members.Count);
        }

        // And it restarts with server: pointing at the server that is gone, from the members it knows.
        await controlServer.DisposeAsync();
        await using var restarted = Start(control);
        await restarted.WaitForLineAsync("[ready]");
        Assert.Contains("[join] control-plane-only: no local etcd; datastore is the cluster's 3 etcd member(s)", restarted.Output, StringComparison.Ordinal);
        Assert.True(all.SetEquals(ApiserverArgs(control)["etcd-servers"].Split(',')), $"after the restart --etcd-servers {ApiserverArgs(control)["etcd-servers"]} still lists every member");
    }
    [Fact]
    public async Task A_control_plane_only_server_with_a_wrong_token_is_refused_and_writes_nothing()
    {
        var etcd = NewNode(3, EtcdOnly);
        await using var etcdServer = Start(etcd);
        await etcdServer.WaitForLineAsync("[ready]");
        var good = File.ReadAllText(etcd.TokenFile).Trim();
        var control = NewNode(4, $"disable-etcd: true\nserver: {etcd.Supervisor}\ntoken: {good[..(good.LastIndexOf(':') + 1)]}not-the-cluster-secret\n");

        await using var refused = Start(control);
        var code = await refused.WaitForExitAsync();

        Assert.True(code == 1, $"exit {code}:\n{refused.Output}");
        Assert.Contains("[join] refused:", refused.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(new ServerPkiPaths(control.DataDir).TlsDirectory), "no PKI is written before the token opened the bootstrap data");
        Assert.False(File.Exists(new EtcdPaths(control.DataDir).RemoteEndpointsFile));
        Assert.Empty(EtcdProcessesOf(control));
    }
}
