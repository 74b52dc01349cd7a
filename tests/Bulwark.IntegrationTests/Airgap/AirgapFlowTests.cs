using System.Formats.Tar;
using System.Text.Json;
using Bulwark.Airgap;
using Xunit;

namespace Bulwark.Tests.Airgap;

/// <summary>
/// The air-gap path end to end with real components: two docker-registry instances (TLS + htpasswd), an image built
/// here and pushed with skopeo, `bulwark airgap bundle` → `verify` → `import` into the second registry and into
/// agent/images, checked with skopeo, openssl and containerd's own archive reader (ctr).
/// </summary>
public sealed class AirgapFlowTests
{
    private sealed record Setup(TempDirectory Dir, TestRegistry Source, TestRegistry Target, string Key, string Pub, string Registries, string Images) : IDisposable
    {
        public void Dispose()
        {
            Source.Dispose();
            Target.Dispose();
            Dir.Dispose();
        }
    }

    private static async Task<Setup> PrepareAsync()
    {
        var dir = new TempDirectory("bulwark-airgap");
        var source = await TestRegistry.StartAsync();
        var target = await TestRegistry.StartAsync();
        var layout = dir.Combine("layout");
        TestImages.Write(layout, "1.0");
        await source.PushAsync(layout, "1.0", "tools/busybox:1.0");
        var key = dir.Combine("operator.key");
        await Tools.RunAsync("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var pub = dir.Combine("operator.pub");
        await Tools.RunAsync("openssl", "pkey", "-in", key, "-pubout", "-out", pub);
        var registries = dir.Write("registries.yaml", $"""
            configs:
              "{source.Host}":
                auth:
                  username: {TestRegistry.User}
                  password: {TestRegistry.Password}
                tls:
                  ca_file: {source.CaFile}
            """);
        var images = dir.Write("images.txt", $"# test image\n{source.Host}/tools/busybox:1.0\n");
        return new Setup(dir, source, target, key, pub, registries, images);
    }

    private static async Task<string> BundleAsync(Setup s)
    {
        var (bundle, result) = await TryBundleAsync(s);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        return bundle;
    }

    private static async Task<(string Bundle, CliRunner.Result Result)> TryBundleAsync(Setup s, params string[] extra)
    {
        var bundle = s.Dir.Combine("out", "bundle.tar");
        Directory.CreateDirectory(Path.GetDirectoryName(bundle)!);
        var result = await CliRunner.RunAsync(["airgap", "bundle", "--images", s.Images, "--registries", s.Registries, "--signing-key", s.Key, "--output-file", bundle, .. extra]);
        return (bundle, result);
    }

    private Task<CliRunner.Result> ImportAsync(Setup s, string bundle, string pub, string imagesDir)
    {
        var password = s.Dir.Write("password", TestRegistry.Password + "\n");
        return CliRunner.RunAsync("airgap", "import", bundle, "--key", pub, "--registry", s.Target.Host, "--ca-file", s.Target.CaFile,
            "--username", TestRegistry.User, "--password-file", password, "--images-dir", imagesDir, "--private-registry", s.Dir.Combine("etc", "registries.yaml"));
    }

    [Fact]
    public async Task Bundle_verify_import_into_a_second_registry_and_agent_images_with_real_registries_skopeo_openssl_and_ctr()
    {
        using var s = await PrepareAsync();
        var bundle = await BundleAsync(s);
        Assert.False(Directory.Exists(bundle + ".partial"));
        var sourceDigest = await s.Source.InspectDigestAsync("tools/busybox:1.0");

        // The index signature checks with openssl, byte for byte as it is in the archive.
        var extracted = Directory.CreateDirectory(s.Dir.Combine("x")).FullName;
        await Tools.RunAsync("tar", "-xf", bundle, "-C", extracted);
        var openssl = await Tools.TryRunAsync("openssl", "dgst", "-sha256", "-verify", s.Pub, "-signature",
            Path.Combine(extracted, "bulwark/index.json.sig"), Path.Combine(extracted, "bulwark/index.json"));
        Assert.Contains("Verified OK", openssl.Out);
        // skopeo reads the bundle's OCI layout as an image layout.
        var inspected = await Tools.RunAsync("skopeo", "inspect", "--format", "{{.Digest}}", $"oci:{extracted}:{s.Source.Host}/tools/busybox:1.0");
        Assert.Equal(sourceDigest, inspected.Trim());
        // The image signature (simple-signing payload) also checks with openssl.
        var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(extracted, "bulwark/index.json"))).RootElement;
        var image = index.GetProperty("images")[0];
        Assert.Equal(sourceDigest, image.GetProperty("digest").GetString());
        var payloadCheck = await Tools.TryRunAsync("openssl", "dgst", "-sha256", "-verify", s.Pub, "-signature",
            Path.Combine(extracted, image.GetProperty("signature").GetString()!), Path.Combine(extracted, image.GetProperty("signaturePayload").GetString()!));
        Assert.Contains("Verified OK", payloadCheck.Out);
        // The SBOM found the dpkg and apk packages through both layers (status.d whiteout applied).
        var sbom = File.ReadAllText(Path.Combine(extracted, image.GetProperty("sbom").GetString()!));
        Assert.Contains("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", sbom);
        Assert.Contains("pkg:apk/debian/musl@1.2.4-r2?arch=x86_64&distro=12", sbom);
        Assert.DoesNotContain("removed-tool", sbom);
        Assert.DoesNotContain("\"gone\"", sbom);
        SbomSchemaTests.AssertValid(sbom);

        var verify = await CliRunner.RunAsync("airgap", "verify", bundle, "--key", s.Pub);
        Assert.True(verify.ExitCode == 0, verify.Error + verify.Out);
        Assert.Contains("bundle verified", verify.Out);

        var imagesDir = s.Dir.Combine("data", "agent", "images");
        var imported = await ImportAsync(s, bundle, s.Pub, imagesDir);
        Assert.True(imported.ExitCode == 0, imported.Error + imported.Out);
        Assert.Equal(sourceDigest, await s.Target.InspectDigestAsync("tools/busybox:1.0"));
        // Its cosign-style signature tag is there too.
        Assert.NotNull(await s.Target.InspectDigestAsync($"tools/busybox:{sourceDigest!.Replace(':', '-')}.sig"));
        var registriesYaml = File.ReadAllText(s.Dir.Combine("etc", "registries.yaml"));
        Assert.Contains($"https://{s.Target.Host}", registriesYaml);
        Assert.Contains(s.Source.Host, registriesYaml);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(s.Dir.Combine("etc", "registries.yaml")));
        var archive = Assert.Single(Directory.GetFiles(imagesDir));
        Assert.EndsWith(".tar", archive);
        // skopeo reads the agent/images archive as an OCI archive (the format containerd imports).
        var fromArchive = await Tools.RunAsync("skopeo", "inspect", "--format", "{{.Digest}}", $"oci-archive:{archive}:{s.Source.Host}/tools/busybox:1.0");
        Assert.Equal(sourceDigest, fromArchive.Trim());

        // Idempotent: a second import succeeds and changes nothing.
        var again = await ImportAsync(s, bundle, s.Pub, imagesDir);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Single(Directory.GetFiles(imagesDir));
    }

    [Fact]
    public async Task A_tampered_blob_a_wrong_key_and_a_missing_signature_each_fail_clearly_and_import_nothing()
    {
        using var s = await PrepareAsync();
        var bundle = await BundleAsync(s);
        var imagesDir = s.Dir.Combine("agent-images");

        var tampered = s.Dir.Combine("tampered.tar");
        Rewrite(bundle, tampered, (entry, bytes) => entry.StartsWith("blobs/sha256/", StringComparison.Ordinal) && bytes.Length > 100_000 ? Flip(bytes) : bytes);
        var result = await ImportAsync(s, tampered, s.Pub, imagesDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the signed index says", result.Error);
        Assert.Contains("Nothing was imported", result.Error);

        var otherKey = s.Dir.Combine("other.key");
        await Tools.RunAsync("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherKey);
        var otherPub = s.Dir.Combine("other.pub");
        await Tools.RunAsync("openssl", "pkey", "-in", otherKey, "-pubout", "-out", otherPub);
        result = await ImportAsync(s, bundle, otherPub, imagesDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("index signature does not verify", result.Error);

        var unsigned = s.Dir.Combine("unsigned.tar");
        Rewrite(bundle, unsigned, (entry, bytes) => entry == BundleIndex.SignaturePath ? null : bytes);
        result = await ImportAsync(s, unsigned, s.Pub, imagesDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("signature is missing", result.Error);

        Assert.Null(await s.Target.InspectDigestAsync("tools/busybox:1.0"));
        Assert.Empty(Directory.GetFiles(imagesDir));
        Assert.Empty(Directory.GetDirectories(imagesDir));
        Assert.False(File.Exists(s.Dir.Combine("etc", "registries.yaml")));
    }

    // Runs as root (line 11) with no seccomp profile: it passes baseline, not restricted.
    private const string BaselineOnlyPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: legacy-tool
          namespace: tools
        spec:
          containers:
            - name: tool
              image: registry.local/tools/busybox:1.0
              securityContext:
                runAsUser: 0
        """;

    [Fact]
    public async Task Manifests_are_gated_at_bundle_time_carried_signed_checked_again_at_the_local_level_and_imported_0600()
    {
        using var s = await PrepareAsync();
        var apps = Directory.CreateDirectory(s.Dir.Combine("apps")).FullName;
        var deployment = s.Dir.Write("apps/web.yaml", ScanManifestsCliTests.RestrictedDeployment);
        s.Dir.Write("apps/tools/legacy.yaml", BaselineOnlyPod);

        // The default level (restricted) refuses the legacy pod before anything is pulled or written.
        var (bundle, refused) = await TryBundleAsync(s, "--manifests", apps);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("violation(s) of Pod Security Standards restricted", refused.Error);
        Assert.Contains("legacy.yaml:11: Pod tools/legacy-tool:", refused.Error);
        Assert.DoesNotContain("web.yaml", refused.Error);
        Assert.False(File.Exists(bundle));

        var (_, bundled) = await TryBundleAsync(s, "--manifests", apps, "--pss-level", "baseline");
        Assert.True(bundled.ExitCode == 0, bundled.Error + bundled.Out);
        Assert.Contains("2 manifest file(s), 2 workload(s): Pod Security Standards baseline passed", bundled.Out);
        var extracted = Directory.CreateDirectory(s.Dir.Combine("x")).FullName;
        await Tools.RunAsync("tar", "-xf", bundle, "-C", extracted);
        Assert.Equal(ScanManifestsCliTests.RestrictedDeployment, File.ReadAllText(Path.Combine(extracted, "manifests/apps/web.yaml")));
        var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(extracted, BundleIndex.IndexPath))).RootElement;
        Assert.Equal("baseline", index.GetProperty("manifests").GetProperty("level").GetString());
        Assert.Contains(index.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString() == "manifests/apps/tools/legacy.yaml");

        // The disconnected side does not trust the bundle's level: its own default (restricted) refuses, naming the carried file.
        var strict = await CliRunner.RunAsync("airgap", "verify", bundle, "--key", s.Pub);
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("the manifests it carries (nothing was imported)", strict.Error);
        Assert.Contains("manifests/apps/tools/legacy.yaml:11", strict.Error);
        var lenient = await CliRunner.RunAsync("airgap", "verify", bundle, "--key", s.Pub, "--pss-level", "baseline");
        Assert.True(lenient.ExitCode == 0, lenient.Error + lenient.Out);
        Assert.Contains("2 manifest file(s), 2 workload(s): Pod Security Standards baseline passed", lenient.Out);

        // A manifest altered after signing is refused like any other file.
        var tampered = s.Dir.Combine("tampered.tar");
        Rewrite(bundle, tampered, (entry, bytes) => entry == "manifests/apps/web.yaml" ? System.Text.Encoding.UTF8.GetBytes(ScanManifestsCliTests.RestrictedDeployment.Replace("runAsNonRoot: true", "runAsNonRoot: false")) : bytes);
        var altered = await CliRunner.RunAsync("airgap", "verify", tampered, "--key", s.Pub, "--pss-level", "baseline");
        Assert.Equal(1, altered.ExitCode);
        Assert.Contains("manifests/apps/web.yaml has sha256", altered.Error);

        var manifestsDir = s.Dir.Combine("data", "server", "manifests");
        var imported = await CliRunner.RunAsync("airgap", "import", bundle, "--key", s.Pub, "--pss-level", "baseline", "--images-dir", s.Dir.Combine("data", "agent", "images"),
            "--manifests-dir", manifestsDir, "--private-registry", s.Dir.Combine("etc", "registries.yaml"));
        Assert.True(imported.ExitCode == 0, imported.Error + imported.Out);
        var written = Path.Combine(manifestsDir, "apps", "web.yaml");
        Assert.Contains($"wrote {written} (0600)", imported.Out);
        Assert.Equal(File.ReadAllText(deployment), File.ReadAllText(written));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(written));
        Assert.True(File.Exists(Path.Combine(manifestsDir, "apps", "tools", "legacy.yaml")));
    }

    private static byte[] Flip(byte[] bytes)
    {
        bytes[bytes.Length / 2] ^= 0x01;
        return bytes;
    }

    private static void Rewrite(string from, string to, Func<string, byte[], byte[]?> change)
    {
        using var input = File.OpenRead(from);
        using var reader = new TarReader(input);
        using var output = File.Create(to);
        using var writer = new TarWriter(output, TarEntryFormat.Pax);
        while (reader.GetNextEntry() is { } entry)
        {
            using var copy = new MemoryStream();
            entry.DataStream?.CopyTo(copy);
            if (change(entry.Name, copy.ToArray()) is { } bytes)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = new MemoryStream(bytes) });
            }
        }
    }
}
