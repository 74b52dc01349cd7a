using Bulwark.Config;
using Bulwark.Diagnostics;

namespace Bulwark.Crypto;

/// <summary>What <see cref="CryptoStartup.Start(EffectiveConfig)"/> established: the service, the self-test report and OpenSSL's FIPS state.</summary>
public sealed record CryptoStartupResult(CryptoService Service, SelfTestReport? SelfTests, OpenSslStatus OpenSsl);

/// <summary>Bulwark refuses to start: a self-test failed, or strict mode found no active FIPS provider.</summary>
public sealed class FipsStartupException(string message) : BulwarkException(ErrorKind.Unavailable, message);

/// <summary>The first thing <c>bulwark server</c>/<c>agent</c> run: build the crypto service and run the power-on self-tests.</summary>
public static class CryptoStartup
{
    public static CryptoStartupResult Start(EffectiveConfig config) => Start(FipsModes.From(config), OpenSslStatus.Read(), SelfTestSuite.BuiltIn);

    public static CryptoStartupResult Start(FipsMode mode, OpenSslStatus openSsl, SelfTestSuite suite)
    {
        var service = CryptoService.For(mode);
        if (mode == FipsMode.Off)
        {
            return new CryptoStartupResult(service, null, openSsl);
        }
        var report = FipsSelfTests.Run(service, suite);
        if (!report.Passed)
        {
            var failed = string.Join("; ", report.Failures.Select(f => $"{f.Name}: {f.Detail}"));
            throw new FipsStartupException($"FIPS power-on self-test failed, refusing to start: {failed}. " +
                "The crypto library is not behaving as specified; reinstall OpenSSL (libssl3) and run `bulwark fips self-test`.");
        }
        if (mode == FipsMode.Strict && !openSsl.FipsProviderActive)
        {
            throw new FipsStartupException($"fips-mode strict requires the OpenSSL FIPS provider, but it is not active (OpenSSL {openSsl.LibraryVersion}; " +
                $"module installed: {(openSsl.FipsModuleInstalled ? "yes" : "no")}, provider available: {(openSsl.FipsProviderAvailable ? "yes" : "no")}, fips=yes default: {(openSsl.FipsDefaultProperties ? "yes" : "no")}). " +
                "Run on a host with a validated OpenSSL FIPS provider enabled (e.g. RHEL with fips-mode-setup --enable), or use fips-mode: on.");
        }
        return new CryptoStartupResult(service, report, openSsl);
    }
}
