using System.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Tests;
using Bulwark.Tests.Airgap;

namespace Bulwark.Benchmarks;

/// <summary>
/// The air-gap bundle path on a ~300 MB image in a real docker-registry (TLS + htpasswd): `bulwark airgap bundle` vs
/// `skopeo copy` of the same image to an OCI layout, and `bulwark airgap verify` vs `sha256sum` over the same bytes, in the
/// same run. Both bulwark figures are whole CLI runs of dist/bulwark. No Trivy here: the bundle records the images as not scanned.
/// </summary>
public static class AirgapBenchmarks
{
    private const int PaddingBytes = 300 * 1024 * 1024;

    public static readonly Benchmark Bundle = new("airgap",
        "airgap bundle of a ~300 MB image from a local registry vs skopeo copy to an OCI layout (goal >= 0.8x), verify vs sha256sum (goal <= 1.2x)",
        async output =>
        {
            using var dir = new TempDirectory("bulwark-bench-airgap");
            using var registry = await TestRegistry.StartAsync();
            var archive = dir.Combine("image.tar");
            BenchImages.WritePadded(archive, "bench.test/big:1", PaddingBytes);
            await Tools.RunAsync("skopeo", "copy", "--quiet", "--dest-cert-dir", registry.CertDirectory, "--dest-creds", $"{TestRegistry.User}:{TestRegistry.Password}",
                $"oci-archive:{archive}", $"docker://{registry.Host}/bench/big:1");
            var key = dir.Combine("operator.key");
            await Tools.RunAsync("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key);
            File.SetUnixFileMode(key, AtomicFile.Private);
            var pub = dir.Combine("operator.pub");
            await Tools.RunAsync("openssl", "pkey", "-in", key, "-pubout", "-out", pub);
            var registries = dir.Write("registries.yaml", $"configs:\n  \"{registry.Host}\":\n    auth:\n      username: {TestRegistry.User}\n" +
                $"      password: {TestRegistry.Password}\n    tls:\n      ca_file: {registry.CaFile}\n");
            var images = dir.Write("images.txt", $"{registry.Host}/bench/big:1\n");

            var watch = Stopwatch.StartNew();
            await Tools.RunAsync("skopeo", "copy", "--quiet", "--src-cert-dir", registry.CertDirectory, "--src-creds", $"{TestRegistry.User}:{TestRegistry.Password}",
                $"docker://{registry.Host}/bench/big:1", $"oci:{dir.Combine("skopeo-layout")}:1");
            var skopeo = watch.Elapsed.TotalSeconds;

            var bundle = dir.Combine("bundle.tar");
            watch.Restart();
            await Tools.RunAsync(AotBenchmarks.Binary, "airgap", "bundle", "--images", images, "--registries", registries, "--signing-key", key, "--output-file", bundle);
            var bulwark = watch.Elapsed.TotalSeconds;

            watch.Restart();
            await Tools.RunAsync(AotBenchmarks.Binary, "airgap", "verify", bundle, "--key", pub);
            var verify = watch.Elapsed.TotalSeconds;
            watch.Restart();
            await Tools.RunAsync("sha256sum", bundle);
            var sha = watch.Elapsed.TotalSeconds;

            var mb = new FileInfo(bundle).Length / 1e6;
            output.WriteLine($"   bundle of {mb:0} MB: bulwark {mb / bulwark:0} MB/s ({bulwark:0.00} s); skopeo copy to an OCI layout {mb / skopeo:0} MB/s ({skopeo:0.00} s); " +
                $"throughput ratio {skopeo / bulwark:0.00}x (goal >= 0.8x: {(skopeo / bulwark >= 0.8 ? "met" : "NOT met")})");
            output.WriteLine($"   verify: bulwark {verify:0.00} s; sha256sum over the same bytes {sha:0.00} s; ratio {verify / sha:0.00}x (goal <= 1.2x: {(verify / sha <= 1.2 ? "met" : "NOT met")})");
        });
}
