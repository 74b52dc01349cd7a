using System.Diagnostics;
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
            BenchImages.WritePadded(tar, "bench.test/import:1", PaddingBytes);
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

    public static readonly Benchmark NodeCheckWarm = new("node-check",
        "bulwark node check on a warm node (pause and check images present): a sandbox and a container through CRI with CNI, hostPort and cleanup, vs ctr run --rm of the same image (goal <= 2 s)",
        async output =>
        {
            using var dir = new TempDirectory("bulwark-bench-check");
            await using var runtime = await StartAsync(dir.Combine("node"));
            // The upstream pause image cannot be pulled here: the stand-in `bulwark node pause-image` writes, under the default name.
            using (var pause = new MemoryStream())
            {
                ImageArchiveBuilder.WriteStandInPause(pause, ContainerdSettings.DefaultPauseImage, "/bin/busybox");
                pause.Position = 0;
                await new ImageImporter(runtime.Paths.Socket).ImportAsync(pause, "pause");
            }
            using var cri = new CriClient(runtime.Paths.Socket);
            var cold = await TimedCheckAsync(cri, runtime.Settings);
            var warm = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                warm.Add(await TimedCheckAsync(cri, runtime.Settings));
            }
            var images = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(CliWrap.Cli.Wrap("ctr")
                .WithArguments(["--address", runtime.Paths.Socket, "-n", RuntimePaths.KubernetesNamespace, "images", "ls", "-q"]));
            var image = images.StandardOutput.Split('\n').First(l => l.StartsWith(NodeCheck.CheckImageRepository, StringComparison.Ordinal));
            var peer = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                await CliWrap.Cli.Wrap("ctr").WithArguments(["--address", runtime.Paths.Socket, "-n", RuntimePaths.KubernetesNamespace, "run", "--rm", image, $"bench-{i}", "/bin/busybox", "true"])
                    .WithStandardOutputPipe(CliWrap.PipeTarget.ToStream(Stream.Null)).ExecuteAsync();
                peer.Add(watch.Elapsed.TotalSeconds);
            }
            var median = warm.Order().ElementAt(warm.Count / 2);
            var peerMedian = peer.Order().ElementAt(peer.Count / 2);
            output.WriteLine($"   node check: cold {cold:0.00} s (builds and imports its image), warm median {median:0.00} s of {warm.Count} " +
                $"(goal <= 2 s: {(median <= 2 ? "met" : "NOT met")}); peer ctr run --rm (no sandbox, no CNI) {peerMedian:0.00} s; ratio {median / peerMedian:0.0}x");
        });

    private static async Task<double> TimedCheckAsync(CriClient cri, ContainerdSettings settings)
    {
        var watch = Stopwatch.StartNew();
        var report = await new NodeCheck(cri, settings).RunAsync();
        if (!report.Passed)
        {
            throw new InvalidOperationException($"node check failed at {report.FirstFailure?.Name}: {report.FirstFailure?.Detail}");
        }
        return watch.Elapsed.TotalSeconds;
    }

    private static Task<ContainerdRuntime> StartAsync(string dataDir)
    {
        var paths = RuntimePaths.For(new NodeLayout(dataDir));
        var settings = new ContainerdSettings(paths, ContainerdSettings.DefaultPauseImage, ContainerdSettings.HostUsesSystemd(), !ContainerdSettings.HostCanLowerOomScoreAdj(),
            ContainerdSettings.FindCniBinDir(), paths.CniConfDir, Selinux: false, RegistriesPath: Path.Combine(dataDir, "no-registries.yaml"),
            DisableDefaultRegistryEndpoint: false, ClusterCidr: "10.250.0.0/24");
        return ContainerdRuntime.StartAsync(settings);
    }
}
