using Bulwark.Crypto;

namespace Bulwark.ControlPlane;

/// <summary>
/// The TLS settings every component is given: the FIPS-approved cipher suites (AES-GCM with ECDHE only) and TLS 1.2 as
/// the floor (CIS 1.2.32, 4.2.13; STIG V-242418, V-242378). Taken from the crypto capability's one TLS policy.
/// </summary>
public sealed record TlsSettings(IReadOnlyList<string> CipherSuites, string MinVersion)
{
    public static readonly TlsSettings Fips = From(TlsPolicy.BuiltIn);

    public static TlsSettings From(TlsPolicy policy) => new(policy.GoCipherSuites, policy.GoMinVersion);
}
