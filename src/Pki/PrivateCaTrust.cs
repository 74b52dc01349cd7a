using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Pki;

/// <summary>Server certificate validation against a private CA only (the host name must match too), for endpoints an operator names a CA file for.</summary>
public static class PrivateCaTrust
{
    public static RemoteCertificateValidationCallback Callback(X509Certificate2Collection trust) => (_, certificate, _, errors) =>
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    };
}
