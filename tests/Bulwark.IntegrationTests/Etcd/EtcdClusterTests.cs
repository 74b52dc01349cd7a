using Bulwark.Etcd;
using Bulwark.Processes;

namespace Bulwark.Tests.Etcd;

/// <summary>A real three-member etcd cluster on loopback, membership managed by Bulwark's client and supervisor.</summary>
public sealed class EtcdClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ulong> JoinAsync(EtcdClient leaderClient, EtcdTestNode node)
    {
        var added = await leaderClient.MemberAddLearnerWhenHealthyAsync([node.Node.PeerUrl], TimeSpan.FromMinutes(1), Ct);
        Assert.True(added.Member.IsLearner);
        var name = node.Node.MemberName();
        await node.StartAsync(node.Node.MemberConfig(name, EtcdMembership.InitialCluster(added, name), "existing"));
        await leaderClient.PromoteWhenReadyAsync(added.Member.Id, TimeSpan.FromMinutes(2), Ct);
        return added.Member.Id;
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

        var members = (await client.MemberListAsync(Ct)).Members;
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
            (await n2Client.RangeAsync(new RangeRequest { Key = "/during-outage"u8.ToArray(), Serializable = true }, Ct)).Kvs.SingleOrDefault()?.ValueText == "written",
            "n2 caught up");
        var h1 = await client.HashKvAsync(n1.ClientUrl, 0, Ct);
        var h2 = await client.HashKvAsync(n2.ClientUrl, h1.Revision, Ct);
        Assert.Equal(h1.Hash, h2.Hash);

        // Removing a member makes it shut itself down; the supervisor does not restart it.
        await client.MemberRemoveWhenHealthyAsync(n3Id, TimeSpan.FromMinutes(1), Ct);
        await EventuallyAsync(() => Task.FromResult(n3.Member!.State == EtcdMemberState.Removed), "n3 stopped after removal");
        Assert.Equal(2, (await client.MemberListAsync(Ct)).Members.Count);
        await client.PutAsync("/after-remove", "ok", cancellationToken: Ct);
    }
}
