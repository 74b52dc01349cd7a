namespace Bulwark.Airgap;

/// <summary>What an import did: the verification, the images pushed (as named in the registry), the archives and manifests written.</summary>
public sealed record ImportResult(BundleVerification Verification, IReadOnlyList<string> Pushed, IReadOnlyList<string> Archives, string? RegistriesFile,
    IReadOnlyList<string> Manifests);
