using System.Diagnostics;
using System.Security.Cryptography;
using Bulwark.FileSystem;
using Bulwark.Runtime;
using Bulwark.Tests;
using ZstdSharp;

namespace Bulwark.Benchmarks;

/// <summary>
/// Air-gap image import: Bulwark's streaming import of a ~200 MB .tar.zst (zstd decoded in-process, no decompressed copy
/// on disk) vs <c>ctr images import</c> of the same image as an uncompressed tar, each into its own fresh containerd in
/// the same run (a shared content store would let the second import skip the blobs).
/// </summary>
public static class RuntimeBenchmarks
{
    private const int PaddingBytes = 200 * 1024 * 1024;

    public static readonly Benchmark Import = new("image-import",
        "air-gap import of a ~200 MB image: Bulwark's streaming .tar.zst import vs ctr images import of the uncompressed tar (goal >= 0.9x throughput)",
        async output =>
        {
            using var dir = new TempDirectory("bulwark-bench-import");
            var tar = dir.Combine("image.tar");
            var files = ImageArchiveBuilder.BusyboxFiles("/bin/busybox").Append(new ImageFile("opt/padding.bin", RandomNumberGenerator.GetBytes(PaddingBytes), AtomicFile.Private)).ToList();
            await using (var file = File.Create(tar))
            {
                ImageArchiveBuilder.Write(file, "bench.test/import:1", files, ["/bin/busybox", "true"], ImageArchiveFormat.Oci);
            }
            var zst = dir.Combine("images", "image.tar.zst");
            Directory.CreateDirectory(Path.GetDirectoryName(zst)!);
            await using (var source = File.OpenRead(tar))
            await using (var compressed = File.Create(zst))
            await using (var target = new CompressionStream(compressed, level: 3))
            {
                await source.CopyToAsync(target);
            }
            var bytes = new FileInfo(tar).Length;

            double bulwark;
            await using (var runtime = await StartAsync(dir.Combine("node-bulwark")))
            {
                var watch = Stopwatch.StartNew();
                var report = await new ImageImporter(runtime.Paths.Socket).ImportDirectoryAsync(Path.GetDirectoryName(zst)!, dir.Combine("cache.json"));
                bulwark = watch.Elapsed.TotalSeconds;
                if (report.Failed.Count > 0)
                {
                    throw new InvalidOperationException(report.Failed[0].Reason);
                }
            }
            double ctr;
            await using (var runtime = await StartAsync(dir.Combine("node-ctr")))
            {
                var watch = Stopwatch.StartNew();
                await CliWrap.Cli.Wrap("ctr").WithArguments(["--address", runtime.Paths.Socket, "-n", RuntimePaths.KubernetesNamespace, "images", "import", tar])
                    // Drained: ctr dies of SIGPIPE when its "unpacking …" lines have nowhere to go.
                    .WithStandardOutputPipe(CliWrap.PipeTarget.ToStream(Stream.Null)).ExecuteAsync();
                ctr = watch.Elapsed.TotalSeconds;
            }
            var mb = bytes / 1e6;
            output.WriteLine($"   {mb:0} MB image: Bulwark .tar.zst {mb / bulwark:0} MB/s ({bulwark:0.00} s); ctr import of the .tar {mb / ctr:0} MB/s ({ctr:0.00} s); " +
                $"throughput ratio {ctr / bulwark:0.00}x (goal >= 0.9x)");
        });

    private static Task<ContainerdRuntime> StartAsync(string dataDir)
    {
        var paths = RuntimePaths.For(new NodeLayout(dataDir));
        var settings = new ContainerdSettings(paths, ContainerdSettings.DefaultPauseImage, ContainerdSettings.HostUsesSystemd(), !ContainerdSettings.HostCanLowerOomScoreAdj(),
            ContainerdSettings.FindCniBinDir(), paths.CniConfDir, Selinux: false, RegistriesPath: Path.Combine(dataDir, "no-registries.yaml"),
            DisableDefaultRegistryEndpoint: false, ClusterCidr: "10.250.0.0/24");
        return ContainerdRuntime.StartAsync(settings);
    }
}
