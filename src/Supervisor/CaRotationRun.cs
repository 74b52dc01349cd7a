using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>
/// One step of a CA rotation (<see cref="CaRotation"/>) for the whole cluster: the planned CA files go into the sealed
/// bootstrap data in etcd first (other servers copy them and re-issue their leaves, <see cref="RotationFollower.SyncSharedPkiAsync"/>),
/// then into this server's files, whose leaves are re-issued from the CA that signs now.
/// </summary>
public sealed class CaRotationRun(CryptoService crypto)
{
    public async Task<IReadOnlyList<PkiChange>> RunAsync(EtcdClient etcd, ServerPkiOptions options, CaRotationStep step, CancellationToken cancellationToken)
    {
        using var held = await RotationLock.AcquireAsync(options.DataDir, cancellationToken).ConfigureAwait(false);
        var plan = CaRotation.Plan(crypto, options.DataDir, options.KeyAlgorithm, step, TimeProvider.System);
        await new ClusterBootstrapStore(crypto, etcd, options.DataDir).UpdateAsync(files =>
        {
            var next = new Dictionary<string, string>(files, StringComparer.Ordinal);
            foreach (var (relative, content) in plan)
            {
                if (content is null)
                {
                    next.Remove(relative);
                }
                else
                {
                    next[relative] = content;
                }
            }
            return next;
        }, cancellationToken).ConfigureAwait(false);
        var written = CaRotation.Apply(options.DataDir, plan).Select(p => new PkiChange(p, PkiAction.Renewed, $"CA rotation: {step.ToString().ToLowerInvariant()}"));
        var reissued = new ServerPki(crypto).Ensure(options with { Token = null, AgentToken = null }).Changes.Where(c => c.Action != PkiAction.Reused);
        return [.. written, .. reissued];
    }
}
