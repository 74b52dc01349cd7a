using System.Net;
using System.Text;
using Bulwark.Etcd;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Three servers on 127.0.0.2-4 of this machine, each with a real etcd process and a real supervisor: server 1 inits,
/// servers 2 and 3 join through the supervisor with the token, and the cluster survives kill -9 of a member.
/// (Servers run inside the test process; their etcd members are separate processes, and "kill -9 a server" is SIGKILL
/// of its etcd plus an abrupt stop of its supervisor.)
/// </summary>
public sealed class HaClusterTests
{
    private static readonly IPAddress[] Addresses = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    [Fact]
    public async Task Three_servers_form_a_voting_etcd_cluster_and_survive_kill_9_of_one_without_losing_acknowledged_writes()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = new ClusterHarness("bulwark-ha");
        var s1 = await cluster.InitAsync("server-1", Addresses[0], ct);
        var token = s1.Token;
        Assert.StartsWith("K10", token);

        // Two servers join at the same time: etcd allows one learner at a time, so one of them is told to retry (503) and does.
        var joins = await Task.WhenAll(
            cluster.JoinAsync("server-2", Addresses[1], s1.SupervisorUrl, token, ct),
            cluster.JoinAsync("server-3", Addresses[2], s1.SupervisorUrl, token, ct));
        var (s2, s3) = (joins[0], joins[1]);

        // Three voting members, none a learner.
        var members = (await s1.Client!.MemberListAsync(ct));
        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.False(m.IsLearner));
        Assert.Equal(["server-1", "server-2", "server-3"], members.Select(m => m.Name.Split('-')[0] + "-" + m.Name.Split('-')[1]).Order());

        // The joiners received the same cluster CA and issued their own etcd certs from it.
        var ca1 = await File.ReadAllBytesAsync(Path.Combine(s1.DataDir, "server/tls/server-ca.crt"), ct);
        Assert.Equal(ca1, await File.ReadAllBytesAsync(Path.Combine(s2.DataDir, "server/tls/server-ca.crt"), ct));
        Assert.Equal(ca1, await File.ReadAllBytesAsync(Path.Combine(s3.DataDir, "server/tls/server-ca.crt"), ct));
        Assert.NotEqual(await File.ReadAllBytesAsync(Path.Combine(s1.DataDir, "server/tls/etcd/server-client.crt"), ct),
            await File.ReadAllBytesAsync(Path.Combine(s2.DataDir, "server/tls/etcd/server-client.crt"), ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(s2.DataDir, "server/tls/server-ca.key")));

        // A write on one server is read on each of the others.
        await s1.Client.PutAsync("/test/hello", "from-server-1", cancellationToken: ct);
        foreach (var server in new[] { s2, s3 })
        {
            var kv = await server.Client!.GetAsync("/test/hello", ct);
            Assert.Equal("from-server-1", Encoding.UTF8.GetString(kv!));
        }
        await s3.Client!.PutAsync("/test/back", "from-server-3", cancellationToken: ct);
        Assert.Equal("from-server-3", Encoding.UTF8.GetString((await s1.Client.GetAsync("/test/back", ct))!));

        // kill -9 server 2 while a writer keeps writing through all three endpoints; count what etcd acknowledged.
        using var writer = s1.NewClient([s1.EtcdUrl, s2.EtcdUrl, s3.EtcdUrl]);
        var acknowledged = new List<string>();
        var failures = 0;
        async Task WriteSome(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var key = $"/test/ack/{acknowledged.Count + failures:D5}";
                try
                {
                    await writer.PutAsync(key, key, cancellationToken: ct);
                    acknowledged.Add(key);
                }
                catch (EtcdException)
                {
                    failures++;
                }
            }
        }
        await WriteSome(50);
        await s2.KillAsync();
        await WriteSome(100);
        Assert.True(acknowledged.Count >= 140, $"the two remaining servers must keep accepting writes; acknowledged {acknowledged.Count} of {acknowledged.Count + failures}");

        // The killed server restarts from its data dir and rejoins; the cluster has three voting members again.
        await s2.RestartAsync(s1.SupervisorUrl, ct);
        await WriteSome(50);
        members = (await s1.Client.MemberListAsync(ct));
        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.False(m.IsLearner));

        // No acknowledged write is lost, on any member (linearizable reads served by each member from its own data).
        foreach (var server in new[] { s1, s2, s3 })
        {
            var all = await server.Client!.GetPrefixAsync("/test/ack/", ct);
            var present = all.Select(kv => kv.Key.ToStringUtf8()).ToHashSet();
            var missing = acknowledged.Where(k => !present.Contains(k)).ToList();
            Assert.True(missing.Count == 0, $"{server.Name} lacks {missing.Count} acknowledged writes, e.g. {string.Join(", ", missing.Take(3))}");
        }

        // The token secret never reached a log line.
        var secret = token[(token.LastIndexOf(':') + 1)..];
        Assert.DoesNotContain(secret, cluster.Log);
    }
}
