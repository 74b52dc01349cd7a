using System.Security.Cryptography;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;

namespace Bulwark.Airgap;

/// <summary>Where <c>airgap import</c> puts a verified bundle: a private registry and/or the node's agent/images folder; its manifests into a folder.</summary>
public sealed record ImportRequest(
    string Bundle,
    IReadOnlyList<AsymmetricAlgorithm> Keys,
    IReadOnlyList<string> KeyNames,
    GatePolicy Policy,
    bool RequireScan,
    RegistryEndpoint? Registry,
    string? RegistriesFile,
    string? ImagesDirectory,
    ManifestGate ManifestGate,
    string? ManifestsDirectory = null);
