using System.Globalization;
using System.Net;
using Bulwark.Tests.Hardening;
using Bulwark.Tests.Server;
using Bulwark.Tests.Supervisor;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// The nodes real <c>bulwark server</c> and <c>agent</c> processes write, checked against their consumers' contracts
/// (<see cref="NodeContract"/>): a CIS server, a second server joined to it, an agent joined to it, and a server without
/// a profile. kube-apiserver, the kubelet and the other components are not installable here: the contract is checked up
/// to the files they would read, with real openssl. CIS needs the kernel parameters hardened: the real-host collection.
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class RealNodeConsistencyTests : IDisposable
{
    private readonly SavedKernelParameters _saved = new();
    private readonly TempDirectory _dir = new("bulwark-consistency");

    public RealNodeConsistencyTests()
    {
        // Like /var/lib: the etcd account must pass through the folder above the data dirs.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)Convert.ToInt32("711", 8));
    }

    public void Dispose()
    {
        _dir.Dispose();
        _saved.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestServerNode NewNode(int index) => TestServerNode.Create($"consistency-{index}", $"127.0.0.{60 + index}", _dir.Combine($"node-{index}"));

    private static string[] Args(TestServerNode node, params string[] extra) => node.Args(null, extra);

    private static string Str(int value) => TestServerNode.Str(value);

    private static async Task AssertConsistentAsync(NodeContract contract, string what)
    {
        var problems = await contract.CheckAsync(Ct);
        Assert.True(problems.Count == 0, $"{what}:\n" + string.Join("\n", problems));
    }

    [Fact]
    public async Task A_cis_server_a_joined_server_and_an_agent_write_nodes_whose_files_chain_match_and_dial_what_listens_up_to_the_component_binaries()
    {
        SavedKernelParameters.Harden();
        var first = NewNode(1);
        var second = NewNode(2);
        await using var s1 = ServerProcess.Start(first.DataDir, Args(first, "--profile", "cis-1.23"));
        await s1.WaitForLineAsync("[ready]");
        var token = Path.Combine(first.DataDir, "server", "token");
        await using var s2 = ServerProcess.Start(second.DataDir, Args(second, "--profile", "cis-1.23", "--server", first.Supervisor.ToString(), "--token-file", token));
        await s2.WaitForLineAsync("[ready]");
        var agentDir = _dir.Combine("agent");
        await using (var agent = ServerProcess.Start("agent", agentDir, inOwnProcessGroup: false, "--node-name", "consistency-agent", "--node-ip", "127.0.0.1",
            "--server", first.Supervisor.ToString(), "--token-file", token, "--profile", "cis-1.23"))
        {
            // The agent stops at the kubelet (not installable here) after writing everything the kubelet would read.
            var code = await agent.WaitForExitAsync();
            Assert.True(code == 3, $"agent exit {code}:\n{agent.Output}");
            Assert.Contains("kubelet-config.yaml", agent.Output, StringComparison.Ordinal);
        }

        await AssertConsistentAsync(new NodeContract(first.DataDir, first.Name), "first server");
        await AssertConsistentAsync(new NodeContract(second.DataDir, second.Name), "joined server");
        await AssertConsistentAsync(new NodeContract(agentDir, "consistency-agent") { ApiServerDataDir = first.DataDir }, "agent");
    }

    [Fact]
    public async Task A_server_without_a_profile_writes_a_consistent_node_too()
    {
        var node = NewNode(4);
        await using var server = ServerProcess.Start(node.DataDir, Args(node));
        await server.WaitForLineAsync("[ready]");
        await AssertConsistentAsync(new NodeContract(node.DataDir, node.Name), "server without a profile");
    }

    [Fact]
    public async Task The_contract_check_finds_a_key_that_does_not_match_and_a_kubeconfig_that_dials_nowhere()
    {
        var node = NewNode(5);
        await using (var server = ServerProcess.Start(node.DataDir, Args(node)))
        {
            await server.WaitForLineAsync("[ready]");
        }
        var agent = Path.Combine(node.DataDir, "agent");
        File.Copy(Path.Combine(agent, "client-kube-proxy.key"), Path.Combine(agent, "client-kubelet.key"), overwrite: true);
        var kubeconfig = Path.Combine(node.DataDir, "server", "cred", "scheduler.kubeconfig");
        File.WriteAllText(kubeconfig, File.ReadAllText(kubeconfig).Replace($"https://{node.Ip}:6443", $"https://{node.Ip}:6444", StringComparison.Ordinal));

        var problems = await new NodeContract(node.DataDir, node.Name).CheckAsync(Ct);

        Assert.Contains(problems, p => p.Contains("client-kubelet.key is not the key of", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("scheduler.kubeconfig dials", StringComparison.Ordinal) && p.Contains(":6444", StringComparison.Ordinal));
        Assert.Equal(2, problems.Count);
    }
}
