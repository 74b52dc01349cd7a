using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Server;

/// <summary>How a stage went: ok or not, and one line for the operator (on failure: what, where, how to fix).</summary>
public sealed record StageResult(bool Ok, string Summary)
{
    public static StageResult Pass(string summary) => new(true, summary);
    public static StageResult Fail(string summary) => new(false, summary);
}

/// <summary>
/// The server stages owned by other capabilities (Bulwark.Crypto self-tests, Bulwark.Pki), as delegates so tests and
/// later wiring can replace one without touching the runner. <see cref="Standard"/> runs the real ones.
/// </summary>
public sealed record ServerStages(
    Func<EffectiveConfig, CancellationToken, Task<StageResult>> CryptoSelfTests,
    Func<EffectiveConfig, CancellationToken, Task<StageResult>> Pki)
{
    /// <summary>FIPS power-on self-tests, then the server PKI (created, renewed or reused) with the crypto service they vetted.</summary>
    public static ServerStages Standard()
    {
        CryptoService? vetted = null;
        return new ServerStages(
            (config, _) =>
            {
                try
                {
                    var started = CryptoStartup.Start(config);
                    vetted = started.Service;
                    var mode = FipsModes.From(config).Name();
                    return Task.FromResult(StageResult.Pass(started.SelfTests is { } report
                        ? $"fips-mode {mode}: {report.Results.Count} power-on self-tests passed; OpenSSL FIPS provider {(started.OpenSsl.FipsProviderActive ? "active" : "not active")}"
                        : $"fips-mode {mode}: self-tests skipped"));
                }
                catch (FipsStartupException e)
                {
                    return Task.FromResult(StageResult.Fail(e.Message));
                }
            },
            (config, _) =>
            {
                try
                {
                    var result = new ServerPki(vetted ?? CryptoStartup.Start(config).Service).Ensure(config);
                    return Task.FromResult(StageResult.Pass(
                        $"{result.Created.Count()} created, {result.Renewed.Count()} renewed, {result.Changes.Count - result.Created.Count() - result.Renewed.Count()} reused in {result.Paths.TlsDirectory}"));
                }
                catch (Exception e) when (e is PkiException or TokenFormatException or IOException or UnauthorizedAccessException)
                {
                    return Task.FromResult(StageResult.Fail($"{e.Message}. Nothing was started."));
                }
            });
    }

    /// <summary>For running on certificates made elsewhere: only checks that the etcd certificates are at the layout paths.</summary>
    public static Task<StageResult> RequireEtcdCertificates(EffectiveConfig config, CancellationToken cancellationToken)
    {
        var paths = new EtcdPaths(config.DataDir);
        var required = paths.MemberTlsFiles.Concat([paths.ClientCert, paths.ClientKey]).ToList();
        var missing = required.Where(f => !File.Exists(f)).ToList();
        return Task.FromResult(missing.Count == 0
            ? StageResult.Pass($"using the etcd certificates in {paths.TlsDir}")
            : StageResult.Fail($"missing etcd certificates in {paths.TlsDir}: {string.Join(", ", missing.Select(Path.GetFileName))}. " +
                "Place them there (server-client and peer-server-client need EKU serverAuth+clientAuth)."));
    }
}
