using System.Formats.Tar;
using System.IO.Compression;
using ZstdSharp;

namespace Bulwark.Pipeline;

/// <summary>
/// Reads the few files the SBOM needs from an image's layers, applying them in order with OCI whiteouts
/// (<c>.wh.NAME</c> deletes NAME from lower layers, <c>.wh..wh..opq</c> empties its folder), and resolves symlinks
/// among them (<c>etc/os-release → ../usr/lib/os-release</c>).
/// </summary>
public sealed class LayerFiles
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const long MaxFileBytes = 64L << 20;

    private readonly Func<string, bool> _wanted;
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);

    public LayerFiles(Func<string, bool> wanted) => _wanted = wanted;

    /// <summary>Applies one layer (tar, gzip or zstd compressed), above the layers applied before it.</summary>
    public void Apply(Stream layer, string whereForErrors)
    {
        using var tar = new TarReader(Decompress(layer), leaveOpen: false);
        var deletions = new List<(string Path, bool Opaque)>();
        var additions = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var path = Normalize(entry.Name);
                var name = Path.GetFileName(path);
                var folder = Path.GetDirectoryName(path) ?? "";
                if (name == OpaqueMarker)
                {
                    deletions.Add((folder, true));
                }
                else if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    deletions.Add((Combine(folder, name[WhiteoutPrefix.Length..]), false));
                }
                else if (entry.EntryType == TarEntryType.SymbolicLink && _wanted(path))
                {
                    links[path] = entry.LinkName;
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && _wanted(path) && entry.DataStream is { } data)
                {
                    if (entry.Length > MaxFileBytes)
                    {
                        throw new PipelineException($"{whereForErrors}: {path} is {entry.Length} bytes, larger than a package database should be");
                    }
                    using var copy = new MemoryStream((int)entry.Length);
                    data.CopyTo(copy);
                    additions[path] = copy.ToArray();
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new PipelineException($"{whereForErrors}: not a readable layer tar ({e.Message})", PipelineFailure.Input, e);
        }
        // Whiteouts hide lower layers only; this layer's own files stay.
        foreach (var (path, opaque) in deletions)
        {
            Remove(path, keepFolder: opaque);
        }
        foreach (var (path, bytes) in additions)
        {
            _links.Remove(path);
            _files[path] = bytes;
        }
        foreach (var (path, target) in links)
        {
            _files.Remove(path);
            _links[path] = target;
        }
    }

    /// <summary>The file at a path after all layers, following symlinks inside the image; null when absent.</summary>
    public byte[]? Read(string path)
    {
        for (var hops = 0; hops < 16; hops++)
        {
            if (_files.TryGetValue(path, out var bytes))
            {
                return bytes;
            }
            if (!_links.TryGetValue(path, out var target))
            {
                return null;
            }
            path = target.StartsWith('/') ? Normalize(target) : Normalize(Combine(Path.GetDirectoryName(path) ?? "", target));
        }
        return null;
    }

    /// <summary>Paths of the regular files kept under a folder (e.g. var/lib/dpkg/status.d).</summary>
    public IEnumerable<string> Under(string folder) =>
        _files.Keys.Where(k => k.StartsWith(folder + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    private void Remove(string path, bool keepFolder)
    {
        var prefix = path.Length == 0 ? "" : path + "/";
        foreach (var key in _files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) || (!keepFolder && k == path)).ToList())
        {
            _files.Remove(key);
        }
        foreach (var key in _links.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) || (!keepFolder && k == path)).ToList())
        {
            _links.Remove(key);
        }
    }

    /// <summary>Picks the decompressor from the magic bytes of a seekable stream (a blob file).</summary>
    public static Stream Decompress(Stream layer)
    {
        Span<byte> magic = stackalloc byte[4];
        var start = layer.Position;
        var read = layer.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        layer.Position = start;
        var buffered = new BufferedStream(layer, 1 << 16);
        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new GZipStream(buffered, CompressionMode.Decompress);
        }
        if (read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            var zstd = new DecompressionStream(buffered);
            // RKE2's tarballs use zstd --long=25; bound the window so a hostile frame cannot ask for gigabytes.
            zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_dParameter.ZSTD_d_windowLogMax, 27);
            return zstd;
        }
        return buffered;
    }

    private static string Combine(string folder, string name) => folder.Length == 0 ? name : folder + "/" + name;

    /// <summary>"./etc/x", "/etc/x", "etc/./y/../x" → "etc/x".</summary>
    public static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
                continue;
            }
            parts.Add(part);
        }
        return string.Join('/', parts);
    }
}
