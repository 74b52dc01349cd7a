namespace Bulwark.ControlPlane;

/// <summary>
/// The TLS settings every component is given: the FIPS-approved cipher suites (AES-GCM with ECDHE only) and TLS 1.2 as
/// the floor (CIS 1.2.32, 4.2.13; STIG V-242418, V-242378). The one place to point at the crypto capability's TLS policy.
/// </summary>
public sealed record TlsSettings(IReadOnlyList<string> CipherSuites, string MinVersion)
{
    public static readonly TlsSettings Fips = new(
    [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ], "VersionTLS12");
}
