using System.IO.Compression;

namespace Bulwark.Etcd;

/// <summary>How a snapshot file is stored, told by its name: plain, .zip (RKE2's compressed form) or .gz (Bulwark's earlier compressed form).</summary>
public enum SnapshotCompression
{
    None,
    Zip,
    Gzip,
}

/// <summary>
/// Snapshot files as RKE2 writes them: compressed means a .zip holding exactly one deflated entry named as the snapshot
/// (the file name without .zip), so an RKE2 user's tooling reads Bulwark's snapshots and the other way round.
/// Bulwark's earlier gzip snapshots (.gz) still list, verify and restore.
/// </summary>
public static class SnapshotFormat
{
    public const string ZipSuffix = ".zip";
    public const string GzipSuffix = ".gz";

    public static SnapshotCompression Of(string path) =>
        path.EndsWith(ZipSuffix, StringComparison.Ordinal) ? SnapshotCompression.Zip
        : path.EndsWith(GzipSuffix, StringComparison.Ordinal) ? SnapshotCompression.Gzip
        : SnapshotCompression.None;

    /// <summary>The snapshot's name: its file name without the compression suffix.</summary>
    public static string NameOf(string fileName) => Of(fileName) switch
    {
        SnapshotCompression.Zip => fileName[..^ZipSuffix.Length],
        SnapshotCompression.Gzip => fileName[..^GzipSuffix.Length],
        _ => fileName,
    };

    /// <summary>
    /// Writes the zip around <paramref name="write"/>'s stream: one entry named <paramref name="name"/>, deflated, dated
    /// <paramref name="created"/>, mode 0600 (as RKE2's FileInfoHeader of a 0600 file records it).
    /// </summary>
    public static async Task<T> WriteZipAsync<T>(Stream output, string name, DateTimeOffset created, Func<Stream, Task<T>> write)
    {
        T result;
        await using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = archive.CreateEntry(name, CompressionLevel.Fastest);
            entry.LastWriteTime = created;
            entry.ExternalAttributes = Convert.ToInt32("100600", 8) << 16;
            await using var content = await entry.OpenAsync().ConfigureAwait(false);
            await using var buffered = new BufferedStream(content, 1 << 20);
            result = await write(buffered).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>Runs <paramref name="read"/> over the etcd snapshot inside the file (decompressed). A zip must hold exactly one entry.</summary>
    public static async Task<T> ReadContentAsync<T>(string path, Func<Stream, Task<T>> read)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, useAsync: true);
        switch (Of(path))
        {
            case SnapshotCompression.Zip:
                await using (var archive = new ZipArchive(file, ZipArchiveMode.Read))
                {
                    if (archive.Entries.Count != 1)
                    {
                        throw new InvalidDataException($"the archive holds {archive.Entries.Count} entries where a compressed snapshot holds exactly one");
                    }
                    await using var entry = await archive.Entries[0].OpenAsync().ConfigureAwait(false);
                    return await read(entry).ConfigureAwait(false);
                }
            case SnapshotCompression.Gzip:
                await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
                {
                    return await read(gzip).ConfigureAwait(false);
                }
            default:
                return await read(file).ConfigureAwait(false);
        }
    }
}
