using Bulwark.Config;

namespace Bulwark.Etcd;

/// <summary>
/// Where snapshots go off-site, from RKE2's <c>etcd-s3-*</c> keys (names and defaults as RKE2 has them). The endpoint is
/// host[:port]; <see cref="Insecure"/> picks http over https. Credentials come from the config, else from
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment.
/// </summary>
public sealed record S3Settings(
    string Endpoint, string EndpointCa, bool SkipSslVerify, bool Insecure, string Bucket, string Region, string Folder,
    S3Credentials Credentials, int Retention, TimeSpan Timeout, string Proxy)
{
    public const string AccessKeyVariable = "AWS_ACCESS_KEY_ID";
    public const string SecretKeyVariable = "AWS_SECRET_ACCESS_KEY";

    /// <summary>The settings when etcd-s3 is on, else null. The config checks have already validated each value.</summary>
    public static S3Settings? FromConfig(EffectiveConfig config, IReadOnlyDictionary<string, string> environment)
    {
        if (!config.Get(ConfigKeys.EtcdS3))
        {
            return null;
        }
        Validators.TryParseDuration(config.Get(ConfigKeys.EtcdS3Timeout), out var timeout);
        return new S3Settings(
            config.Get(ConfigKeys.EtcdS3Endpoint),
            config.Get(ConfigKeys.EtcdS3EndpointCa),
            config.Get(ConfigKeys.EtcdS3SkipSslVerify),
            config.Get(ConfigKeys.EtcdS3Insecure),
            config.Get(ConfigKeys.EtcdS3Bucket),
            config.Get(ConfigKeys.EtcdS3Region),
            config.Get(ConfigKeys.EtcdS3Folder),
            new S3Credentials(
                config.Get(ConfigKeys.EtcdS3AccessKey) is { Length: > 0 } access ? access : environment.GetValueOrDefault(AccessKeyVariable, ""),
                config.Get(ConfigKeys.EtcdS3SecretKey) is { Length: > 0 } secret ? secret : environment.GetValueOrDefault(SecretKeyVariable, "")),
            config.Get(ConfigKeys.EtcdS3Retention),
            timeout,
            config.Get(ConfigKeys.EtcdS3Proxy));
    }

    public Uri ServiceUrl => new((Insecure ? "http://" : "https://") + Endpoint);

    /// <summary>The object key of a snapshot file in the folder.</summary>
    public string KeyOf(string file) => Folder.Length == 0 ? file : Folder + "/" + file;

    public string Prefix => Folder.Length == 0 ? "" : Folder + "/";

    public string LocationOf(string file) => $"s3://{Bucket}/{KeyOf(file)}";
}

/// <summary>The S3 key pair. Holds the secret key; prints without it, so it never lands in a log or an error.</summary>
public sealed class S3Credentials(string accessKey, string secretKey)
{
    public string AccessKey => accessKey;

    internal string SecretKey => secretKey;

    public bool IsComplete => accessKey.Length > 0 && secretKey.Length > 0;

    public override string ToString() => accessKey.Length == 0 ? "(no access key)" : $"access key {accessKey}, secret key hidden";
}
