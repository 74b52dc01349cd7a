using Bulwark.Config;

namespace Bulwark.Etcd;

/// <summary>Config checks owned by the snapshot capability (registered in Cli/ConfigChecks).</summary>
public static class SnapshotConfigChecks
{
    /// <summary>A bad etcd-snapshot-schedule-cron is a configuration error (unless scheduled snapshots are disabled).</summary>
    public static void Cron(EffectiveConfig config, List<ConfigProblem> problems)
    {
        if (config.Role != ConfigRole.Server || config.Get(ConfigKeys.EtcdDisableSnapshots))
        {
            return;
        }
        var expression = config.Get(ConfigKeys.EtcdSnapshotScheduleCron);
        if (!CronSchedule.TryParse(expression, out _, out var error))
        {
            problems.Add(ConfigProblem.Error(config.SourceOf(ConfigKeys.EtcdSnapshotScheduleCron).Where, ConfigKeys.EtcdSnapshotScheduleCron.Name,
                $"{error}; or set etcd-disable-snapshots: true"));
        }
    }

    /// <summary>etcd-s3 settings that only make sense together: a bucket, one way to trust the endpoint, a whole key pair.</summary>
    public static void S3(EffectiveConfig config, List<ConfigProblem> problems)
    {
        if (config.Role != ConfigRole.Server || !config.Get(ConfigKeys.EtcdS3))
        {
            return;
        }
        void Error(ConfigKey key, string message) => problems.Add(ConfigProblem.Error(config.SourceOf(key).Where, key.Name, message));
        if (config.Get(ConfigKeys.EtcdS3Bucket).Length == 0)
        {
            Error(config.IsSet(ConfigKeys.EtcdS3Bucket) ? ConfigKeys.EtcdS3Bucket : ConfigKeys.EtcdS3,
                "etcd-s3 is on but no etcd-s3-bucket is set; name the bucket that holds the snapshots (etcd-s3-bucket: my-bucket)");
        }
        var ca = config.Get(ConfigKeys.EtcdS3EndpointCa);
        if (config.Get(ConfigKeys.EtcdS3Insecure) && (ca.Length > 0 || config.Get(ConfigKeys.EtcdS3SkipSslVerify)))
        {
            Error(ConfigKeys.EtcdS3Insecure, $"etcd-s3-insecure (plain http) cannot go with {(ca.Length > 0 ? "etcd-s3-endpoint-ca" : "etcd-s3-skip-ssl-verify")}, " +
                "which only apply to https; remove one of them");
        }
        else if (ca.Length > 0 && config.Get(ConfigKeys.EtcdS3SkipSslVerify))
        {
            Error(ConfigKeys.EtcdS3SkipSslVerify, "etcd-s3-skip-ssl-verify turns off the very check etcd-s3-endpoint-ca configures; keep the CA and remove etcd-s3-skip-ssl-verify");
        }
        if (ca.Length > 0 && S3Tls.LoadCaProblem(ca) is { } caProblem)
        {
            Error(ConfigKeys.EtcdS3EndpointCa, caProblem);
        }
        if (config.Get(ConfigKeys.EtcdS3AccessKey).Length > 0 != config.Get(ConfigKeys.EtcdS3SecretKey).Length > 0)
        {
            var missing = config.Get(ConfigKeys.EtcdS3AccessKey).Length == 0 ? ConfigKeys.EtcdS3AccessKey : ConfigKeys.EtcdS3SecretKey;
            var given = missing == ConfigKeys.EtcdS3AccessKey ? ConfigKeys.EtcdS3SecretKey : ConfigKeys.EtcdS3AccessKey;
            Error(given, $"{given.Name} is set but {missing.Name} is not; give both, or neither to use {S3Settings.AccessKeyVariable}/{S3Settings.SecretKeyVariable}");
        }
        if (!Validators.TryParseDuration(config.Get(ConfigKeys.EtcdS3Timeout), out var timeout) || timeout <= TimeSpan.Zero)
        {
            Error(ConfigKeys.EtcdS3Timeout, "must be a positive duration such as 5m");
        }
    }
}
