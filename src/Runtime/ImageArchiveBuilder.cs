using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;

namespace Bulwark.Runtime;

/// <summary>A file of a one-layer image: path inside the image, content (or symlink target), mode.</summary>
public sealed record ImageFile(string Path, byte[] Content, UnixFileMode Mode, string? LinkTarget = null);

/// <summary>Archive formats containerd (and <c>ctr images import</c>) reads.</summary>
public enum ImageArchiveFormat
{
    /// <summary>OCI image layout in a tar: oci-layout, index.json (names in annotations), blobs/sha256/.</summary>
    Oci,

    /// <summary><c>docker save</c>'s format: manifest.json with RepoTags, config and layer files.</summary>
    Docker,
}

/// <summary>
/// Builds a small single-layer linux/amd64 image archive without Docker: tar + sha256 + JSON. Bulwark uses it for the
/// node check's own image (from the host's static busybox), tests and the demo for the offline pause image.
/// </summary>
public static class ImageArchiveBuilder
{
    public static void Write(Stream destination, string imageName, IReadOnlyList<ImageFile> files, IReadOnlyList<string> entrypoint, ImageArchiveFormat format)
    {
        var layer = LayerTar(files);
        var layerDigest = Digest(layer);
        var config = Json(w =>
        {
            w.WriteString("architecture", "amd64");
            w.WriteString("os", "linux");
            w.WriteStartObject("config");
            w.WriteStartArray("Entrypoint");
            foreach (var arg in entrypoint)
            {
                w.WriteStringValue(arg);
            }
            w.WriteEndArray();
            w.WriteStartArray("Env");
            w.WriteStringValue("PATH=/bin");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            w.WriteStringValue(layerDigest);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        var configDigest = Digest(config);
        using var tar = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);
        if (format == ImageArchiveFormat.Docker)
        {
            var manifest = JsonArray(w =>
            {
                w.WriteStartObject();
                w.WriteString("Config", Hex(configDigest) + ".json");
                w.WriteStartArray("RepoTags");
                w.WriteStringValue(imageName);
                w.WriteEndArray();
                w.WriteStartArray("Layers");
                w.WriteStringValue(Hex(layerDigest) + "/layer.tar");
                w.WriteEndArray();
                w.WriteEndObject();
            });
            Add(tar, Hex(configDigest) + ".json", config);
            Add(tar, Hex(layerDigest) + "/layer.tar", layer);
            Add(tar, "manifest.json", manifest);
            return;
        }
        var imageManifest = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", "application/vnd.oci.image.manifest.v1+json");
            Descriptor(w, "config", "application/vnd.oci.image.config.v1+json", configDigest, config.Length);
            w.WriteStartArray("layers");
            w.WriteStartObject();
            w.WriteString("mediaType", "application/vnd.oci.image.layer.v1.tar");
            w.WriteString("digest", layerDigest);
            w.WriteNumber("size", layer.Length);
            w.WriteEndObject();
            w.WriteEndArray();
        });
        var manifestDigest = Digest(imageManifest);
        var index = Json(w =>
        {
            w.WriteNumber("schemaVersion", 2);
            w.WriteStartArray("manifests");
            w.WriteStartObject();
            w.WriteString("mediaType", "application/vnd.oci.image.manifest.v1+json");
            w.WriteString("digest", manifestDigest);
            w.WriteNumber("size", imageManifest.Length);
            w.WriteStartObject("annotations");
            w.WriteString("org.opencontainers.image.ref.name", imageName);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        });
        Add(tar, "oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
        Add(tar, "blobs/sha256/" + Hex(layerDigest), layer);
        Add(tar, "blobs/sha256/" + Hex(configDigest), config);
        Add(tar, "blobs/sha256/" + Hex(manifestDigest), imageManifest);
        Add(tar, "index.json", index);
    }

    /// <summary>The files of a busybox image: the static binary and /bin/sh.</summary>
    /// <summary>
    /// A stand-in sandbox (pause) image for nodes that cannot reach the upstream one, e.g. an offline demo: the host's
    /// static busybox as PID 1, sleeping until SIGTERM/SIGINT ends it cleanly (a bare sleep as PID 1 would ignore them)
    /// and reaping what it started, as the upstream pause does.
    /// </summary>
    public static void WriteStandInPause(Stream destination, string imageName, string busyboxPath) =>
        Write(destination, imageName, BusyboxFiles(busyboxPath),
            ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"], ImageArchiveFormat.Oci);

    public static IReadOnlyList<ImageFile> BusyboxFiles(string busyboxPath)
    {
        const UnixFileMode exec = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        return
        [
            new ImageFile("bin/busybox", File.ReadAllBytes(busyboxPath), exec),
            new ImageFile("bin/sh", [], exec, "busybox"),
            new ImageFile("tmp/", [], exec | UnixFileMode.StickyBit),
        ];
    }

    private static byte[] LayerTar(IReadOnlyList<ImageFile> files)
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var dir in files.SelectMany(f => Parents(f.Path)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir) { Mode = (UnixFileMode)0b111_101_101, ModificationTime = Epoch });
            }
            foreach (var file in files)
            {
                PaxTarEntry entry = file.Path.EndsWith('/')
                    ? new PaxTarEntry(TarEntryType.Directory, file.Path)
                    : file.LinkTarget is { } target
                        ? new PaxTarEntry(TarEntryType.SymbolicLink, file.Path) { LinkName = target }
                        : new PaxTarEntry(TarEntryType.RegularFile, file.Path) { DataStream = new MemoryStream(file.Content) };
                entry.Mode = file.Mode;
                entry.ModificationTime = Epoch;
                tar.WriteEntry(entry);
            }
        }
        return buffer.ToArray();
    }

    private static readonly DateTimeOffset Epoch = DateTimeOffset.UnixEpoch;

    private static IEnumerable<string> Parents(string path)
    {
        var parts = path.TrimEnd('/').Split('/');
        for (var i = 1; i < parts.Length; i++)
        {
            yield return string.Join('/', parts[..i]) + "/";
        }
    }

    private static void Add(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(content),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = Epoch,
        });

    private static void Descriptor(Utf8JsonWriter w, string name, string mediaType, string digest, long size)
    {
        w.WriteStartObject(name);
        w.WriteString("mediaType", mediaType);
        w.WriteString("digest", digest);
        w.WriteNumber("size", size);
        w.WriteEndObject();
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static byte[] JsonArray(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            body(w);
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static string Hex(string digest) => digest["sha256:".Length..];
}
