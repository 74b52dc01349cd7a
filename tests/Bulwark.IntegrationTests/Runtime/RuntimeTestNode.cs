using System.IO.Compression;
using System.Security.Cryptography;
using Bulwark.Runtime;
using ZstdSharp;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// A scratch node for runtime tests: its own data dir (so its own containerd root, state and socket), a random /24 pod
/// CIDR and check bridge (tests run beside other developers' tests), and images built here from busybox-static.
/// </summary>
public sealed class RuntimeTestNode : IDisposable
{
    public RuntimeTestNode()
    {
        Temp = new TempDirectory("bwrt");
        var r = RandomNumberGenerator.GetBytes(2);
        ClusterCidr = $"10.{200 + (r[0] % 50)}.{r[1]}.0/24";
        PauseImage = $"bulwark.test/pause:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        ConfigFile = Temp.Write("etc/config.yaml", $"""
            data-dir: {DataDir}
            cluster-cidr: {ClusterCidr}
            pause-image: {PauseImage}
            private-registry: {Temp.Combine("etc", "registries.yaml")}
            """);
    }

    public TempDirectory Temp { get; }
    public string DataDir => Temp.Combine("data");
    public string ClusterCidr { get; }
    public string PauseImage { get; }
    public string ConfigFile { get; }
    public string ImagesDir => Temp.Combine("data", "agent", "images");

    public Config.EffectiveConfig Config() =>
        Bulwark.Config.ConfigLoader.Load(new Bulwark.Config.ConfigRequest(Bulwark.Config.ConfigRole.Server, ConfigFile, new Dictionary<string, string>(), [])).Config!;

    /// <summary>A pause image from the host's static busybox: sleeps forever (CRI stops sandboxes with SIGKILL).</summary>
    public static void WriteImage(Stream destination, string name, ImageArchiveFormat format, IReadOnlyList<string>? entrypoint = null) =>
        ImageArchiveBuilder.Write(destination, name, ImageArchiveBuilder.BusyboxFiles("/bin/busybox"), entrypoint ?? ["/bin/busybox", "sleep", "2147483647"], format);

    /// <summary>Writes an archive into agent/images, compressed by its suffix (.tar, .tar.gz, .tar.zst).</summary>
    public string AddArchive(string fileName, string imageName, ImageArchiveFormat format)
    {
        Directory.CreateDirectory(ImagesDir);
        var path = Path.Combine(ImagesDir, fileName);
        using var file = File.Create(path);
        using Stream target = fileName.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionLevel.Fastest)
            : fileName.EndsWith(".zst", StringComparison.Ordinal) ? new CompressionStream(file, level: 3)
            : file;
        WriteImage(target, imageName, format);
        return path;
    }

    public void Dispose() => Temp.Dispose();
}
