namespace Bulwark.Etcd;

/// <summary>
/// The etcd side of a server join, run by an existing member on the joiner's behalf: add the joiner as a learner
/// unless its peer URL is already a member (then answer the same again), and describe the cluster it must start with.
/// Uses only the client's member calls, so it stays the same whatever client is underneath.
/// </summary>
public sealed class LearnerAdmissions(EtcdClient etcd)
{
    /// <summary>Admits <paramref name="name"/> at <paramref name="peerUrl"/> (scheme and authority only) as a learner.</summary>
    /// <exception cref="LearnerSlotBusyException">Another learner is still catching up.</exception>
    /// <exception cref="EtcdException">etcd did not answer.</exception>
    public async Task<LearnerAdmission> AdmitAsync(string name, string peerUrl, CancellationToken cancellationToken)
    {
        var list = await etcd.MemberListAsync(cancellationToken).ConfigureAwait(false);
        var existing = list.FirstOrDefault(m => m.PeerURLs.Contains(peerUrl, StringComparer.Ordinal));
        IReadOnlyList<Etcdserverpb.Member> members = list;
        ulong id;
        if (existing is not null)
        {
            // A restarted or retrying server: already a member (possibly still a learner). Hand back the same answer.
            id = existing.ID;
        }
        else
        {
            try
            {
                var added = await etcd.MemberAddLearnerAsync([peerUrl], cancellationToken).ConfigureAwait(false);
                id = added.Member.ID;
                members = added.Members;
            }
            catch (EtcdException e) when (e.Code == GrpcCodes.FailedPrecondition && e.EtcdMessage.Contains("too many learner", StringComparison.Ordinal))
            {
                throw new LearnerSlotBusyException(e);
            }
        }
        var initialCluster = string.Join(",", members.Select(m =>
            $"{(m.ID == id ? name : m.Name.Length > 0 ? m.Name : "pending-" + m.IdHex())}={m.PeerURLs.FirstOrDefault()}"));
        var voterClientUrls = members.Where(m => !m.IsLearner && m.ID != id).SelectMany(m => m.ClientURLs).ToList();
        return new LearnerAdmission(id, initialCluster, voterClientUrls, existing is not null);
    }
}
