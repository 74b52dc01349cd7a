using System.Security.Cryptography;
using Bulwark.FileSystem;
using Bulwark.Runtime;

namespace Bulwark.Benchmarks;

/// <summary>Large single-layer images for the transfer benchmarks: the host's busybox plus incompressible padding.</summary>
public static class BenchImages
{
    public static void WritePadded(string path, string imageName, int paddingBytes)
    {
        var files = ImageArchiveBuilder.BusyboxFiles("/bin/busybox")
            .Append(new ImageFile("opt/padding.bin", RandomNumberGenerator.GetBytes(paddingBytes), AtomicFile.Private)).ToList();
        using var file = File.Create(path);
        ImageArchiveBuilder.Write(file, imageName, files, ["/bin/busybox", "true"], ImageArchiveFormat.Oci);
    }
}
