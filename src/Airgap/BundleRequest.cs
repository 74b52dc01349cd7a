using System.Security.Cryptography;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>What <c>bulwark airgap bundle</c> puts in one archive, and how it scans and signs.</summary>
/// <param name="Trivy">The vulnerability stage with its prepared DB dir; null bundles without scanning (recorded per image).</param>
/// <param name="Manifests">Manifest files or folders to carry under manifests/, each passing <paramref name="ManifestGate"/> first.</param>
public sealed record BundleRequest(
    IReadOnlyList<ImageReference> Images,
    IReadOnlyList<OciPlatform> Platforms,
    IReadOnlyList<string> Files,
    Runtime.RegistriesFile Registries,
    AsymmetricAlgorithm SigningKey,
    string Output,
    string ToolVersion,
    (TrivyStage Stage, string DbDirectory, GatePolicy Policy)? Trivy = null,
    IReadOnlyList<string>? Manifests = null,
    ManifestGate? ManifestGate = null);
