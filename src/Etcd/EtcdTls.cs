using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Etcd;

/// <summary>The three PEM files a client needs: the CA that signed etcd's serving cert, and its own cert and key.</summary>
public sealed record EtcdClientTls(string CaFile, string CertFile, string KeyFile);

/// <summary>
/// The TLS cipher suites etcd and Bulwark's etcd client allow: FIPS-approved AES-GCM with ECDHE only.
/// One list, so the crypto policy (Bulwark.Crypto TlsPolicy) can replace it in one place.
/// </summary>
public static class EtcdCipherSuites
{
    /// <summary>Go (IANA) names for etcd's --cipher-suites; etcd 3.4 applies them to TLS 1.2 (TLS 1.3 suites are not configurable in Go).</summary>
    public static IReadOnlyList<string> Tls12 { get; } =
    [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ];

    /// <summary>What the client offers: the same TLS 1.2 suites plus TLS 1.3 AES-GCM (never ChaCha20, which etcd cannot forbid).</summary>
    public static CipherSuitesPolicy ClientPolicy() => new(
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ]);
}

/// <summary>Builds the TLS options of etcd clients: the client certificate, and trust in the etcd CA only.</summary>
internal static class EtcdTlsOptions
{
    public static SslClientAuthenticationOptions Create(EtcdClientTls tls)
    {
        foreach (var file in new[] { tls.CaFile, tls.CertFile, tls.KeyFile })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"etcd client TLS file {file} does not exist; it is created by the server's PKI stage (check --data-dir)", file);
            }
        }
        var ca = X509CertificateLoader.LoadCertificateFromFile(tls.CaFile);
        using var pem = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
        // SslStream needs a persistable key on Linux; a PKCS#12 round trip gives one.
        var clientCert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        return new SslClientAuthenticationOptions
        {
            ClientCertificates = [clientCert],
            CipherSuitesPolicy = EtcdCipherSuites.ClientPolicy(),
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is not X509Certificate2 serverCert || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(serverCert);
            },
        };
    }
}
