using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>The supervisor's serving certificate: issued by the server CA at start, in memory only (never written), with the node's names.</summary>
public static class SupervisorCertificate
{
    public static X509Certificate2 Issue(CertificateIssuer issuer, IssuedCertificate serverCa, string nodeName, IEnumerable<string> extraNames, IEnumerable<IPAddress> addresses)
    {
        var sans = SubjectAlternativeNames.From(["localhost", nodeName, .. extraNames], [IPAddress.Loopback, IPAddress.IPv6Loopback, .. addresses.Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any))]);
        var profile = new CertificateProfile("bulwark-supervisor", [], CertificateUsage.Server, sans);
        using var issued = issuer.Issue(serverCa, profile, KeyAlgorithm.EcdsaP256);
        using var withKey = issued.Key switch
        {
            ECDsa ec => issued.Certificate.CopyWithPrivateKey(ec),
            RSA rsa => issued.Certificate.CopyWithPrivateKey(rsa),
            _ => throw new NotSupportedException(issued.Key.GetType().Name),
        };
        // SslStream on Linux wants a key it can hand to OpenSSL as a whole: a PKCS#12 round trip gives one.
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12, password), password);
    }
}
