using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Bulwark.Etcd;

/// <summary>
/// The etcd side of a server join, run by an existing member on the joiner's behalf: add the joiner as a learner
/// unless its peer URL is already a member (then answer the same again), and describe the cluster it must start with.
/// etcd allows one learner at a time, so a learner whose server died mid-join would block every later join: each
/// learner's admission time is kept in etcd, and one still unpromoted after <see cref="StaleAfter"/> is removed.
/// </summary>
public sealed class LearnerAdmissions(EtcdClient etcd, ILogger logger, TimeProvider? time = null)
{
    /// <summary>When each learner was admitted (or first seen), by member id in hex: shared by every server.</summary>
    public const string AdmittedPrefix = "/bulwark/etcd-learners/";

    /// <summary>Longer than a joiner's own promotion deadline (2 min), so only a learner its joiner gave up on is removed.</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TimeSpan StaleAfter { get; init; } = DefaultStaleAfter;

    /// <summary>Admits <paramref name="name"/> at <paramref name="peerUrl"/> (scheme and authority only) as a learner.</summary>
    /// <exception cref="LearnerSlotBusyException">Another learner is still catching up and is not yet stale.</exception>
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
            var blocking = await RemoveStaleLearnersAsync(list, cancellationToken).ConfigureAwait(false);
            try
            {
                var added = await etcd.MemberAddLearnerAsync([peerUrl], cancellationToken).ConfigureAwait(false);
                id = added.Member.ID;
                members = added.Members;
            }
            catch (EtcdException e) when (e.Code == GrpcCodes.FailedPrecondition && e.EtcdMessage.Contains("too many learner", StringComparison.Ordinal))
            {
                throw new LearnerSlotBusyException(blocking, e);
            }
            await etcd.PutAsync(AdmittedPrefix + id.ToString("x16", CultureInfo.InvariantCulture), Stamp(_time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }
        var initialCluster = string.Join(",", members.Select(m =>
            $"{(m.ID == id ? name : m.Name.Length > 0 ? m.Name : "pending-" + m.IdHex())}={m.PeerURLs.FirstOrDefault()}"));
        var voterClientUrls = members.Where(m => !m.IsLearner && m.ID != id).SelectMany(m => m.ClientURLs).ToList();
        return new LearnerAdmission(id, initialCluster, voterClientUrls, existing is not null);
    }

    /// <summary>
    /// Removes every learner admitted more than <see cref="StaleAfter"/> ago (a learner with no record, e.g. added by
    /// hand, is recorded now and judged later), forgets the records of members no longer learners, and describes
    /// the learners that remain, for the busy answer.
    /// </summary>
    private async Task<string> RemoveStaleLearnersAsync(IReadOnlyList<Etcdserverpb.Member> members, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var records = await etcd.ReadPrefixAsync(AdmittedPrefix, cancellationToken).ConfigureAwait(false);
        var learners = members.Where(m => m.IsLearner).ToDictionary(m => AdmittedPrefix + m.IdHex(), StringComparer.Ordinal);
        foreach (var forgotten in records.Keys.Where(k => !learners.ContainsKey(k)))
        {
            await etcd.DeleteAsync(forgotten, cancellationToken).ConfigureAwait(false);
        }
        var remaining = new List<string>();
        foreach (var (key, learner) in learners)
        {
            var described = $"{(learner.Name.Length > 0 ? learner.Name : "unstarted member " + learner.IdHex())} at {string.Join(",", learner.PeerURLs)}";
            if (!records.TryGetValue(key, out var stamp) || ParseStamp(stamp) is not { } since)
            {
                await etcd.PutAsync(key, Stamp(now), cancellationToken).ConfigureAwait(false);
                remaining.Add($"{described} (first seen now; removed if still a learner after {StaleAfter})");
                continue;
            }
            var age = now - since;
            if (age <= StaleAfter)
            {
                remaining.Add($"{described} (a learner for {Whole(age)}; removed if still a learner after {StaleAfter})");
                continue;
            }
            try
            {
                await etcd.MemberRemoveAsync(learner.ID, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException e) when (e.IsNotFound)
            {
                // Another server removed it first.
            }
            await etcd.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            logger.LogWarning("removed etcd learner {Learner}: not promoted {Age} after it was admitted (limit {Limit}); its server died or could not catch up, and a learner blocks every other join. That server may join again",
                described, Whole(age), StaleAfter);
        }
        return remaining.Count > 0 ? string.Join("; ", remaining) : "a learner added just now";
    }

    private static string Stamp(DateTimeOffset at) => at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseStamp(byte[] value) =>
        long.TryParse(Encoding.UTF8.GetString(value), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    private static TimeSpan Whole(TimeSpan span) => TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds));
}
