using Bulwark.Etcd;
using Bulwark.Processes;
using Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Tests.Etcd;

/// <summary>A real three-member etcd cluster on loopback, membership managed by Bulwark's client and supervisor.</summary>
public sealed class EtcdClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ulong> JoinAsync(EtcdClient leaderClient, EtcdTestNode node)
    {
        var added = await WhileUnhealthyAsync(() => leaderClient.MemberAddLearnerAsync([node.Node.PeerUrl], Ct));
        Assert.True(added.Member.IsLearner);
        var name = node.Node.MemberName();
        await node.StartAsync(node.Node.MemberConfig(name, EtcdMembership.InitialCluster(added, name), "existing"));
        await leaderClient.PromoteWhenReadyAsync(added.Member.ID, TimeSpan.FromMinutes(2), Ct);
        return added.Member.ID;
    }

    /// <summary>etcd refuses membership changes ("unhealthy cluster") until every voter has been connected for 5 s.</summary>
    private static async Task<T> WhileUnhealthyAsync<T>(Func<Task<T>> change)
    {
        while (true)
        {
            try
            {
                return await change();
            }
            catch (EtcdException e) when (e.EtcdMessage.Contains("unhealthy cluster", StringComparison.Ordinal))
            {
                await Task.Delay(500, Ct);
            }
        }
    }

    /// <summary>Waits for a condition with a generous deadline (a hang fails the test; how long it took is not asserted).</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(2));
        while (!await condition())
        {
            Assert.False(deadline.IsCancellationRequested, $"gave up waiting: {what}");
            await Task.Delay(200, Ct);
        }
    }

    [Fact]
    public async Task Learners_are_added_and_promoted_a_killed_member_restarts_and_catches_up_and_a_removed_member_stops()
    {
        await using var n1 = await EtcdTestNode.CreateAsync("n1");
        await using var n2 = await EtcdTestNode.CreateAsync("n2", sharePkiWith: n1);
        await using var n3 = await EtcdTestNode.CreateAsync("n3", sharePkiWith: n1);
        await n1.StartAsync();
        using var client = n1.Client();
        await client.PutAsync("/before-join", "1", cancellationToken: Ct);

        await JoinAsync(client, n2);
        var n3Id = await JoinAsync(client, n3);

        var members = (await client.MemberListAsync(Ct));
        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.False(m.IsLearner));
        Assert.Equal(3, members.Select(m => m.Name).Distinct().Count());

        // kill -9 one member: the other two keep quorum, writes succeed.
        var killedPid = n2.Member!.Pid!.Value;
        Assert.True(Signals.Send(killedPid, Signals.SigKill));
        using var survivors = new EtcdClient(new EtcdClientOptions([n2.ClientUrl, n1.ClientUrl, n3.ClientUrl], n1.Node.Paths.ClientTls));
        await survivors.PutAsync("/during-outage", "written", cancellationToken: Ct);

        // The supervisor restarts it, and it catches up with what was written while it was down.
        await EventuallyAsync(async () => n2.Member.Restarts >= 1 && n2.Member.Pid is { } p && p != killedPid && await n2.Member.IsHealthyAsync(Ct), "n2 restarted and healthy");
        using var n2Client = n2.Client();
        await EventuallyAsync(async () =>
            (await n2Client.Api.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/during-outage"), Serializable = true }, cancellationToken: Ct)).Kvs.SingleOrDefault()?.Value.ToStringUtf8() == "written",
            "n2 caught up");
        using var n1Client = n1.Client();
        var h1 = await n1Client.Api.HashKVAsync(new HashKVRequest(), cancellationToken: Ct);
        var h2 = await n2Client.Api.HashKVAsync(new HashKVRequest { Revision = h1.Header.Revision }, cancellationToken: Ct);
        Assert.Equal(h1.Hash, h2.Hash);

        // Removing a member makes it shut itself down; the supervisor does not restart it.
        await WhileUnhealthyAsync(async () => { await client.MemberRemoveAsync(n3Id, Ct); return true; });
        await EventuallyAsync(() => Task.FromResult(n3.Member!.Removed), "n3 stopped after removal");
        Assert.Equal(2, (await client.MemberListAsync(Ct)).Count);
        await client.PutAsync("/after-remove", "ok", cancellationToken: Ct);
    }
}
