using System.Globalization;
using Etcdserverpb;

namespace Bulwark.Etcd;

/// <summary>Joining helpers (ETCD-GATEWAY.md §9): a new member is added as a learner, started with every member listed, then promoted.</summary>
public static class EtcdMembership
{
    public static string IdHex(this Member member) => member.ID.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// --initial-cluster for a member just added: every member by name=first peer URL, including learners and members
    /// that have not started (they have no name yet, so the new one gets <paramref name="newName"/>). etcd refuses to start
    /// with a missing entry ("member count is unequal").
    /// </summary>
    public static string InitialCluster(MemberAddResponse added, string newName) =>
        string.Join(",", added.Members.Select(m =>
        {
            var name = m.ID == added.Member.ID ? newName : m.Name;
            if (name.Length == 0)
            {
                throw new InvalidOperationException($"member {m.IdHex()} ({string.Join(",", m.PeerURLs)}) was added but has not started; start it (or remove it) before adding another");
            }
            return $"{name}={m.PeerURLs[0]}";
        }));
}
