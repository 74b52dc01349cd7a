using Bulwark.Config;
using Bulwark.Pki;

namespace Bulwark.Etcd;

/// <summary>The snapshot settings of this node, from the config: folder, names, compression, retention, schedule, token fingerprint.</summary>
public sealed record SnapshotSettings(string Directory, string ScheduledName, bool Compress, int Retention, string Cron, bool ScheduleDisabled, string TokenHash)
{
    public static SnapshotSettings FromConfig(EffectiveConfig config, EtcdNode node) => new(
        config.Get(ConfigKeys.EtcdSnapshotDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : node.Paths.DefaultSnapshotDir,
        config.Get(ConfigKeys.EtcdSnapshotName),
        config.Get(ConfigKeys.EtcdSnapshotCompress),
        config.Get(ConfigKeys.EtcdSnapshotRetention),
        config.Get(ConfigKeys.EtcdSnapshotScheduleCron),
        config.Get(ConfigKeys.EtcdDisableSnapshots),
        TokenFingerprint.Of(TokenSource.ServerOrStored(config)));

    public SnapshotRequest Request(string baseName, string kind, string node, string bulwarkVersion, bool? compress = null) =>
        new(baseName, node, kind, compress ?? Compress, TokenHash, bulwarkVersion);
}
