using Bulwark.Config;
using Bulwark.Pki;

namespace Bulwark.Etcd;

/// <summary>The snapshot settings of this node, from the config: folder, names, compression, retention, schedule, cluster token, S3 (when etcd-s3 is on).</summary>
public sealed record SnapshotSettings(string Directory, string ScheduledName, bool Compress, int Retention, string Cron, bool ScheduleDisabled, SnapshotToken Token,
    S3Settings? S3)
{
    public static SnapshotSettings FromConfig(EffectiveConfig config, EtcdNode node, IReadOnlyDictionary<string, string> environment) => new(
        config.Get(ConfigKeys.EtcdSnapshotDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : node.Paths.DefaultSnapshotDir,
        config.Get(ConfigKeys.EtcdSnapshotName),
        config.Get(ConfigKeys.EtcdSnapshotCompress),
        config.Get(ConfigKeys.EtcdSnapshotRetention),
        config.Get(ConfigKeys.EtcdSnapshotScheduleCron),
        config.Get(ConfigKeys.EtcdDisableSnapshots),
        new SnapshotToken(TokenSource.ServerOrStored(config)),
        S3Settings.FromConfig(config, environment));

    public SnapshotRequest Request(string baseName, string kind, string node, string bulwarkVersion, bool? compress = null) =>
        new(baseName, node, kind, compress ?? Compress, Token.Fingerprint(), bulwarkVersion);
}
