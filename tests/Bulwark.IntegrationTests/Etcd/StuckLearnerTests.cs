using Bulwark.Etcd;
using Bulwark.Processes;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Etcd;

/// <summary>A joining server dies mid-join, leaving a learner on a real etcd cluster: other joins wait only until it is stale.</summary>
public sealed class StuckLearnerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_learner_whose_joiner_was_killed_blocks_joins_until_it_is_stale_then_is_removed_and_a_new_join_is_promoted()
    {
        await using var n1 = await EtcdTestNode.CreateAsync("n1");
        await using var n2 = await EtcdTestNode.CreateAsync("n2", sharePkiWith: n1);
        await using var n3 = await EtcdTestNode.CreateAsync("n3", sharePkiWith: n1);
        await n1.StartAsync();
        using var client = n1.Client();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new FakeLogger();
        var admissions = new LearnerAdmissions(client, logger, clock) { StaleAfter = TimeSpan.FromMinutes(5) };

        // n2 is admitted, starts its learner (the WAL exists), and its server is killed before the promotion.
        var n2Name = n2.Node.MemberName();
        var stuck = await admissions.AdmitAsync(n2Name, n2.Node.PeerUrl, Ct);
        await n2.StartAsync(n2.Node.MemberConfig(n2Name, stuck.InitialCluster, "existing"));
        Assert.True(n2.Node.Paths.HasMemberData);
        Assert.True(Signals.Send(n2.Member!.Pid!.Value, Signals.SigKill));
        await n2.StopAsync();
        Assert.Contains(await client.MemberListAsync(Ct), m => m.ID == stuck.MemberId && m.IsLearner);

        // While the learner is young, a new join is told who blocks it and when that ends.
        var n3Name = n3.Node.MemberName();
        clock.Advance(TimeSpan.FromMinutes(4));
        var busy = await Assert.ThrowsAsync<LearnerSlotBusyException>(() => admissions.AdmitAsync(n3Name, n3.Node.PeerUrl, Ct));
        Assert.Contains(n2.Node.PeerUrl, busy.Message);
        Assert.Contains("removed if still a learner after 00:05:00", busy.Message);

        // Past the limit the stale learner is removed (and logged), and the new server joins and is promoted.
        clock.Advance(TimeSpan.FromMinutes(2));
        var admitted = await admissions.AdmitAsync(n3Name, n3.Node.PeerUrl, Ct);
        Assert.False(admitted.AlreadyMember);
        Assert.Contains(logger.Collector.GetSnapshot(), l => l.Message.Contains("removed etcd learner", StringComparison.Ordinal) && l.Message.Contains(n2.Node.PeerUrl, StringComparison.Ordinal));
        await n3.StartAsync(n3.Node.MemberConfig(n3Name, admitted.InitialCluster, "existing"));
        await client.PromoteWhenReadyAsync(admitted.MemberId, TimeSpan.FromMinutes(2), Ct);

        var members = await client.MemberListAsync(Ct);
        Assert.Equal(2, members.Count);
        Assert.DoesNotContain(members, m => m.ID == stuck.MemberId);
        Assert.All(members, m => Assert.False(m.IsLearner));
        var records = await client.ReadPrefixAsync(LearnerAdmissions.AdmittedPrefix, Ct);
        Assert.Equal([LearnerAdmissions.AdmittedPrefix + admitted.MemberId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)], records.Keys);
        await client.PutAsync("/after-join", "ok", Ct);
    }

    [Fact]
    public async Task A_learner_added_outside_bulwark_is_recorded_when_first_seen_and_removed_once_stale()
    {
        await using var n1 = await EtcdTestNode.CreateAsync("n1");
        await n1.StartAsync();
        using var client = n1.Client();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var admissions = new LearnerAdmissions(client, new FakeLogger(), clock) { StaleAfter = TimeSpan.FromMinutes(5) };
        // As `etcdctl member add --learner` would: never started, no admission record.
        var byHand = await client.MemberAddLearnerAsync(["https://127.0.0.1:1"], Ct);

        var busy = await Assert.ThrowsAsync<LearnerSlotBusyException>(() => admissions.AdmitAsync("late", "https://127.0.0.1:2", Ct));
        Assert.Contains("first seen now", busy.Message);
        clock.Advance(TimeSpan.FromMinutes(6));
        var admitted = await admissions.AdmitAsync("late", "https://127.0.0.1:2", Ct);
        Assert.DoesNotContain(await client.MemberListAsync(Ct), m => m.ID == byHand.Member.ID);
        Assert.Contains(await client.MemberListAsync(Ct), m => m.ID == admitted.MemberId && m.IsLearner);
    }
}
