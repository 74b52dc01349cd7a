using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Etcd;

/// <summary>The three PEM files a client needs: the CA that signed etcd's serving cert, and its own cert and key.</summary>
public sealed record EtcdClientTls(string CaFile, string CertFile, string KeyFile);

/// <summary>
/// The TLS cipher suites of etcd and of Bulwark's etcd client, from the crypto TLS policy (policies/crypto/tls.yaml):
/// FIPS-approved ECDHE with AES-GCM only.
/// </summary>
public static class EtcdCipherSuites
{
    /// <summary>Go (IANA) names for etcd's cipher-suites; etcd 3.4 applies them to TLS 1.2 (TLS 1.3 suites are not configurable in Go).</summary>
    public static IReadOnlyList<string> Tls12 => TlsPolicy.BuiltIn.GoCipherSuites;
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
        // Every CA in the file: during a CA rotation (certificate rotate-ca) it holds the old and the new CA side by side.
        var ca = new X509Certificate2Collection();
        ca.ImportFromPemFile(tls.CaFile);
        var clientCert = TlsClientCertificate.FromPem(File.ReadAllText(tls.CertFile), File.ReadAllText(tls.KeyFile));
        // The client offers only the policy's suites: never TLS 1.3 ChaCha20, which etcd itself cannot forbid.
        return TlsPolicy.BuiltIn.Apply(new SslClientAuthenticationOptions
        {
            ClientCertificates = [clientCert],
            RemoteCertificateValidationCallback = PrivateCaTrust.Callback(ca),
        });
    }
}
