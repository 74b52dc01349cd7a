using Bulwark.Config;
using Bulwark.Etcd;

namespace Bulwark.Server;

/// <summary>How a stage went: ok or not, and one line for the operator (on failure: what, where, how to fix).</summary>
public sealed record StageResult(bool Ok, string Summary)
{
    public static StageResult Pass(string summary) => new(true, summary);
    public static StageResult Fail(string summary) => new(false, summary);
}

/// <summary>
/// The server stages owned by other capabilities, pluggable so the crypto/PKI work (Bulwark.Crypto, Bulwark.Pki) is wired
/// in one place. The defaults here do not pretend: the crypto stage says it is not part of this build, and the PKI stage
/// only checks that the etcd certificates it would write are present.
/// </summary>
public sealed record ServerStages(
    Func<EffectiveConfig, CancellationToken, Task<StageResult>> CryptoSelfTests,
    Func<EffectiveConfig, CancellationToken, Task<StageResult>> Pki)
{
    public static ServerStages Default { get; } = new(CryptoNotWired, RequireEtcdCertificates);

    private static Task<StageResult> CryptoNotWired(EffectiveConfig config, CancellationToken cancellationToken) =>
        Task.FromResult(StageResult.Pass("FIPS self-tests are not part of this build (Bulwark.Crypto is wired in separately); nothing was tested"));

    /// <summary>Until the PKI is wired, the server runs on certificates already at the layout paths (server/tls/etcd).</summary>
    public static Task<StageResult> RequireEtcdCertificates(EffectiveConfig config, CancellationToken cancellationToken)
    {
        var paths = new EtcdPaths(config.DataDir);
        var required = paths.MemberTlsFiles.Concat([paths.ClientCert, paths.ClientKey]).ToList();
        var missing = required.Where(f => !File.Exists(f)).ToList();
        return Task.FromResult(missing.Count == 0
            ? StageResult.Pass($"using the etcd certificates in {paths.TlsDir}")
            : StageResult.Fail($"missing etcd certificates in {paths.TlsDir}: {string.Join(", ", missing.Select(Path.GetFileName))}. " +
                "This build does not generate a PKI; place the certificates there (server-client and peer-server-client need EKU serverAuth+clientAuth)."));
    }
}
