using System.Net;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Tests.Supervisor;

/// <summary>A node started before its server: the join retries (backoff with jitter) until the supervisor answers, then completes.</summary>
public sealed class JoinRetryTests
{
    [Fact]
    public async Task An_agent_started_before_the_first_server_retries_until_it_is_up_and_then_joins()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = new ClusterHarness("bulwark-retry");
        using var dirs = new TempDirectory("bulwark-retry-agent");
        var ip = IPAddress.Parse("127.0.0.9");
        var port = ClusterHarness.FreePort(ip);
        // The token must exist before the server does: create the PKI first (as an operator would copy the token from it).
        var dataDir = cluster.Root.Combine("server-r");
        new Bulwark.Pki.ServerPki(cluster.Crypto).Ensure(ClusterHarness.PkiOptions(dataDir, "server-r", ip, null));
        var token = (await File.ReadAllTextAsync(new Bulwark.Pki.ServerPkiPaths(dataDir).Token, ct)).Trim();

        var join = new AgentJoin(cluster.Crypto, cluster.Loggers.CreateLogger<AgentJoin>()).RunAsync(
            new AgentJoinOptions(dirs.Path, new Uri($"https://{ip}:{port}"), token, "agent-early", [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(90) }, ct);
        // Nothing listens yet: the join keeps retrying (it can neither succeed nor give up within its 90 s deadline here).
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        Assert.False(join.IsCompleted, join.Exception?.ToString());

        await cluster.InitAsync("server-r", ip, ct, supervisorPort: port);
        var result = await join;
        Assert.Equal("agent-early", result.NodeName);
        Assert.Contains("fetching the cluster CA: cannot reach the supervisor", cluster.Log);
        Assert.Contains("retrying", cluster.Log);
    }
}
