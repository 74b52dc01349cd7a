using Bulwark.Etcd;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Stages;

/// <summary>The first server's embedded etcd: a single-member cluster (or this member restarted from its data), health-gated.</summary>
public sealed class EtcdStage : IStage
{
    public string Name => "etcd";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var etcd = node.EtcdNode = EtcdNode.FromConfig(node.Config);
        if (File.Exists(etcd.Paths.ResetFlag))
        {
            // A normal start after a reset clears the flag (as RKE2), so a later reset is allowed again.
            File.Delete(etcd.Paths.ResetFlag);
        }
        var memberConfig = etcd.SingleMemberConfig();
        var member = new EtcdMember(etcd.Prepare(memberConfig), node.Loggers.CreateLogger<EtcdMember>());
        node.Progress($"starting member {memberConfig.Name} ({member.Spec.Binary}{(etcd.RunAs is { } u ? $", as user {u.User}" : "")})");
        try
        {
            await member.StartAsync(cancellationToken).ConfigureAwait(false);
            var updated = await UpdateOwnPeerUrlAsync(etcd, memberConfig.Name, cancellationToken).ConfigureAwait(false);
            node.Etcd = member;
            return new StageResult($"healthy at {etcd.LocalClientUrl.ToString().TrimEnd('/')} (pid {member.Pid}); log {etcd.Paths.LogFile}{updated}") { Running = member };
        }
        catch
        {
            await member.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A member restarted with a new node IP or peer port still carries its old peer URL in the membership (as k3s does,
    /// fix it with a member update), or peers could never reach it. Returns what it changed, for the stage line.
    /// </summary>
    internal static async Task<string> UpdateOwnPeerUrlAsync(EtcdNode node, string name, CancellationToken cancellationToken)
    {
        using var client = new EtcdClient(node.ClientOptions());
        var self = (await client.MemberListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(m => m.Name == name);
        if (self is null || self.PeerURLs.SequenceEqual([node.PeerUrl]))
        {
            return "";
        }
        await client.MemberUpdateAsync(self.ID, [node.PeerUrl], cancellationToken).ConfigureAwait(false);
        return $"; peer URL updated from {string.Join(",", self.PeerURLs)} to {node.PeerUrl}";
    }
}
