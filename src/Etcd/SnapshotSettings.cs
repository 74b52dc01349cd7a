using Bulwark.Config;

namespace Bulwark.Etcd;

/// <summary>The snapshot settings of this node, from the config: folder, names, compression, retention, schedule, cluster token.</summary>
public sealed record SnapshotSettings(string Directory, string ScheduledName, bool Compress, int Retention, string Cron, bool ScheduleDisabled, SnapshotToken Token)
{
    public static SnapshotSettings FromConfig(EffectiveConfig config, EtcdNode node) => new(
        config.Get(ConfigKeys.EtcdSnapshotDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : node.Paths.DefaultSnapshotDir,
        config.Get(ConfigKeys.EtcdSnapshotName),
        config.Get(ConfigKeys.EtcdSnapshotCompress),
        config.Get(ConfigKeys.EtcdSnapshotRetention),
        config.Get(ConfigKeys.EtcdSnapshotScheduleCron),
        config.Get(ConfigKeys.EtcdDisableSnapshots),
        new SnapshotToken(ConfiguredToken.Read(config, node.Paths)));

    public SnapshotRequest Request(string baseName, string kind, string node, string bulwarkVersion, bool? compress = null) =>
        new(baseName, node, kind, compress ?? Compress, Token.Fingerprint(), bulwarkVersion);
}

/// <summary>The cluster token as configured (token, token-file) or as written by the PKI (server/token); empty when none.</summary>
public static class ConfiguredToken
{
    public static string Read(EffectiveConfig config, EtcdPaths paths)
    {
        if (config.Get(ConfigKeys.Token) is { Length: > 0 } token)
        {
            return token;
        }
        foreach (var file in new[] { config.Get(ConfigKeys.TokenFile), paths.TokenFile })
        {
            if (file.Length > 0 && File.Exists(file))
            {
                try
                {
                    return File.ReadAllText(file).Trim();
                }
                catch (UnauthorizedAccessException)
                {
                    return "";
                }
            }
        }
        return "";
    }
}
