using System.Globalization;

namespace Bulwark.Etcd;

/// <summary>
/// What a joining server needs to start its etcd as a learner: its member id, etcd's initial-cluster string (with
/// its own name), the client URLs of the voting members, and whether it was already a member (a restart or retry).
/// </summary>
public sealed record LearnerAdmission(ulong MemberId, string InitialCluster, IReadOnlyList<string> VoterClientUrls, bool AlreadyMember)
{
    public string MemberIdText => MemberId.ToString(CultureInfo.InvariantCulture);
}

/// <summary>etcd allows one learner at a time and another server is joining: retry shortly.</summary>
public sealed class LearnerSlotBusyException(string learners, Exception inner)
    : Exception($"another server is joining etcd right now (etcd allows one learner at a time): {learners}; retry shortly", inner);
