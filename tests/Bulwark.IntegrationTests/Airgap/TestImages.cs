using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Bulwark.Tests.Airgap;

/// <summary>
/// Builds small real images in an OCI layout: a busybox-static rootfs plus os-release, a dpkg status and an apk
/// installed db, in two layers (the second whites out a file of the first), for skopeo to push.
/// </summary>
public static class TestImages
{
    public const string DpkgStatus = """
        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Version: 2.36-9+deb12u4
        Source: glibc
        Description: GNU C Library
         continuation line

        Package: bash
        Status: install ok installed
        Architecture: amd64
        Version: 5.2.15-2+b2

        Package: removed-tool
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0

        Package: libgcrypt20
        Status: install ok installed
        Architecture: amd64
        Version: 1:1.10.1-3

        """;

    public const string ApkInstalled = """
        C:Q1abc=
        P:musl
        V:1.2.4-r2
        A:x86_64
        o:musl
        L:MIT

        P:busybox
        V:1.36.1-r5
        A:x86_64
        L:GPL-2.0-only

        """;

    public const string OsRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";

    /// <summary>Writes an OCI layout at <paramref name="layout"/> holding one image tagged <paramref name="tag"/>; padding adds incompressible bytes.</summary>
    public static void Write(string layout, string tag, long paddingBytes = 0)
    {
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        var lower = Layer(tar =>
        {
            AddFile(tar, "bin/busybox", File.ReadAllBytes("/bin/busybox"), executable: true);
            AddLink(tar, "bin/sh", "busybox");
            AddFile(tar, "usr/lib/os-release", Encoding.UTF8.GetBytes(OsRelease));
            AddLink(tar, "etc/os-release", "../usr/lib/os-release");
            AddFile(tar, "var/lib/dpkg/status", Encoding.UTF8.GetBytes(DpkgStatus));
            AddFile(tar, "var/lib/dpkg/status.d/gone", Encoding.UTF8.GetBytes("Package: gone\nVersion: 9\nArchitecture: amd64\n"));
            if (paddingBytes > 0)
            {
                var random = new byte[paddingBytes];
                RandomNumberGenerator.Fill(random);
                AddFile(tar, "opt/padding.bin", random);
            }
        });
        var upper = Layer(tar =>
        {
            AddFile(tar, "var/lib/dpkg/status.d/.wh.gone", []);
            AddFile(tar, "lib/apk/db/installed", Encoding.UTF8.GetBytes(ApkInstalled));
        });
        var layers = new[] { lower, upper };
        var diffIds = string.Join(",", layers.Select(l => $"\"sha256:{l.DiffId}\""));
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[{{{diffIds}}}]}}""");
        var configDigest = Blob(layout, config);
        var layerJson = string.Join(",", layers.Select(l => $$$"""{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{{{Blob(layout, l.Gzip)}}}","size":{{{l.Gzip.Length}}}}"""));
        var manifest = Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{{configDigest}}}","size":{{{config.Length}}}},"layers":[{{{layerJson}}}]}""");
        var manifestDigest = Blob(layout, manifest);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(layout, "index.json"),
            $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{{manifestDigest}}}","size":{{{manifest.Length}}},"annotations":{"org.opencontainers.image.ref.name":"{{{tag}}}"}}]}""");
    }

    private static (byte[] Gzip, string DiffId) Layer(Action<TarWriter> fill)
    {
        using var raw = new MemoryStream();
        using (var tar = new TarWriter(raw, TarEntryFormat.Pax, leaveOpen: true))
        {
            fill(tar);
        }
        var diffId = Convert.ToHexStringLower(SHA256.HashData(raw.ToArray()));
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw.ToArray());
        }
        return (gz.ToArray(), diffId);
    }

    private static string Blob(string layout, byte[] content)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", hex), content);
        return hex;
    }

    private static void AddFile(TarWriter tar, string name, byte[] content, bool executable = false)
    {
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(content),
            Mode = executable ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
        });
    }

    private static void AddLink(TarWriter tar, string name, string target) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });
}
