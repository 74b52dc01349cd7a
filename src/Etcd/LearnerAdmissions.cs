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
        var existing = list.Members.FirstOrDefault(m => m.PeerUrls.Contains(peerUrl, StringComparer.Ordinal));
        IReadOnlyList<Member> members = list.Members;
        ulong id;
        if (existing is not null)
        {
            // A restarted or retrying server: already a member (possibly still a learner). Hand back the same answer.
            id = existing.Id;
        }
        else
        {
            try
            {
                var added = await etcd.MemberAddAsync([peerUrl], isLearner: true, cancellationToken).ConfigureAwait(false);
                id = added.Member.Id;
                members = added.Members;
            }
            catch (EtcdException e) when (e.Code == GrpcCodes.FailedPrecondition && e.EtcdMessage.Contains("too many learner", StringComparison.Ordinal))
            {
                throw new LearnerSlotBusyException(e);
            }
        }
        var initialCluster = string.Join(",", members.Select(m =>
            $"{(m.Id == id ? name : m.Name.Length > 0 ? m.Name : "pending-" + m.IdHex)}={m.PeerUrls.FirstOrDefault()}"));
        var voterClientUrls = members.Where(m => !m.IsLearner && m.Id != id).SelectMany(m => m.ClientUrls).ToList();
        return new LearnerAdmission(id, initialCluster, voterClientUrls, existing is not null);
    }
}
