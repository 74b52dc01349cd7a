using System.Text.Json.Serialization;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Cli;

/// <summary>Source-generated JSON for `fips` and `certificate` output (trim-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(FipsStatusView))]
[JsonSerializable(typeof(SelfTestReportView))]
[JsonSerializable(typeof(CertificateReport))]
[JsonSerializable(typeof(RotationView))]
internal sealed partial class CryptoJsonContext : JsonSerializerContext;

/// <summary><c>bulwark fips status --output json</c>.</summary>
internal sealed record FipsStatusView(
    string Mode,
    string OpenSslVersion,
    string? OpenSslModulesDirectory,
    bool FipsModuleInstalled,
    bool FipsProviderAvailable,
    bool FipsDefaultProperties,
    bool FipsProviderActive,
    bool? KernelFipsMode,
    string? Problem,
    string TlsMinVersion,
    IReadOnlyList<string> TlsCipherSuites,
    IReadOnlyList<string> Tls13CipherSuites,
    IReadOnlyList<string> TlsControls,
    IReadOnlyList<AlgorithmRule> Algorithms);

internal sealed record SelfTestReportView(bool Passed, IReadOnlyList<SelfTestResult> Results);

internal sealed record RotationView(string BackupDirectory, IReadOnlyList<PkiChange> Changes);
