using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Bulwark.FileSystem;
using Bulwark.Diagnostics;

namespace Bulwark.Etcd;

/// <summary>A snapshot operation failed with a reason an operator can act on.</summary>
public sealed class SnapshotException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Unavailable, message, inner);

/// <summary>What to call a new snapshot and what to record about it.</summary>
public sealed record SnapshotRequest(string BaseName, string Node, string Kind, bool Compress, string TokenHash, string BulwarkVersion);

/// <summary>
/// The snapshot folder: save (stream → hidden .part → fsync → rename → metadata), list, delete, prune, verify.
/// A failed or interrupted save leaves only a hidden .part file, which list never shows and the next save removes.
/// </summary>
public sealed class SnapshotStore(string directory, TimeProvider? clock = null)
{
    public const string MetadataSuffix = ".metadata.json";
    /// <summary>Compressed snapshots are RKE2's: a .zip with one entry (see <see cref="SnapshotFormat"/>).</summary>
    public const string CompressedSuffix = SnapshotFormat.ZipSuffix;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Directory => directory;

    public static string MetadataPathOf(string snapshotPath) => snapshotPath + MetadataSuffix;

    public async Task<SnapshotMetadata> SaveAsync(EtcdClient client, SnapshotRequest request, CancellationToken cancellationToken)
    {
        try
        {
            AtomicFile.EnsureDirectory(directory, AtomicFile.PrivateDirectory);
            RemoveStaleParts();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SnapshotException($"cannot use snapshot folder {directory}: {e.Message}. Check that it is writable by root and on a mounted, non-full file system, or set etcd-snapshot-dir.", e);
        }

        var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
        var created = _clock.GetUtcNow();
        var name = $"{request.BaseName}-{request.Node}-{created.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        var file = name + (request.Compress ? CompressedSuffix : "");
        for (var n = 2; File.Exists(Path.Combine(directory, file)); n++)
        {
            name = $"{request.BaseName}-{request.Node}-{created.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}-{n.ToString(CultureInfo.InvariantCulture)}";
            file = name + (request.Compress ? CompressedSuffix : "");
        }
        var final = Path.Combine(directory, file);
        var part = Path.Combine(directory, "." + file + ".part");
        SnapshotStreamResult streamed;
        string fileSha256;
        try
        {
            await using (var output = new FileStream(part, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = AtomicFile.Private,
                BufferSize = 0,
            }))
            {
                if (request.Compress)
                {
                    // The file's checksum is of the zip's bytes: hash them on their way to disk.
                    var hashing = new HashingStream(output);
                    await using (hashing.ConfigureAwait(false))
                    {
                        streamed = await SnapshotFormat.WriteZipAsync(hashing, name, created,
                            content => client.SnapshotAsync(content, cancellationToken)).ConfigureAwait(false);
                        fileSha256 = hashing.HashHex;
                    }
                    output.Flush(flushToDisk: true);
                }
                else
                {
                    // Uncompressed, the file is the stream: its checksum came with the integrity check, in the same pass.
                    await using var buffered = new BufferedStream(output, 1 << 20);
                    streamed = await client.SnapshotAsync(buffered, cancellationToken).ConfigureAwait(false);
                    await buffered.FlushAsync(cancellationToken).ConfigureAwait(false);
                    output.Flush(flushToDisk: true);
                    fileSha256 = streamed.Sha256;
                }
            }
        }
        catch (Exception e)
        {
            TryDelete(part);
            if (e is IOException or UnauthorizedAccessException)
            {
                throw new SnapshotException($"writing snapshot {final} failed: {e.Message}. Nothing was kept; free space or fix permissions in {directory} and try again.", e);
            }
            throw;
        }

        var metadata = new SnapshotMetadata
        {
            Name = name,
            File = file,
            Kind = request.Kind,
            Size = new FileInfo(part).Length,
            Sha256 = fileSha256,
            Compressed = request.Compress,
            DbSize = streamed.Length - 32,
            Revision = status.Header.Revision,
            ClusterId = status.Header.ClusterId.ToString("x16", CultureInfo.InvariantCulture),
            MemberId = status.Header.MemberId.ToString("x16", CultureInfo.InvariantCulture),
            Node = request.Node,
            EtcdVersion = status.Version,
            BulwarkVersion = request.BulwarkVersion,
            Created = created,
            TokenHash = request.TokenHash,
        };
        // The metadata lands first and the snapshot appears with one rename: a kill at any point leaves either no
        // snapshot (a hidden .part and maybe metadata alone, both cleaned up) or a snapshot with its metadata.
        try
        {
            AtomicFile.WriteAllText(MetadataPathOf(final), JsonSerializer.Serialize(metadata, SnapshotJsonContext.Default.SnapshotMetadata), AtomicFile.Private);
            File.Move(part, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(part);
            TryDelete(MetadataPathOf(final));
            throw new SnapshotException($"writing snapshot {final} failed: {e.Message}. Nothing was kept; free space or fix permissions in {directory} and try again.", e);
        }
        return metadata;
    }

    /// <summary>Snapshots in the folder, newest first. Hidden files (.part in progress) and metadata files are not snapshots.</summary>
    public IReadOnlyList<SnapshotEntry> List()
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }
        var entries = new List<SnapshotEntry>();
        foreach (var path in System.IO.Directory.EnumerateFiles(directory))
        {
            var fileName = Path.GetFileName(path);
            if (fileName.StartsWith('.') || fileName.EndsWith(MetadataSuffix, StringComparison.Ordinal))
            {
                continue;
            }
            var info = new FileInfo(path);
            var metadata = ReadMetadata(path);
            var name = metadata?.Name ?? SnapshotFormat.NameOf(fileName);
            entries.Add(new SnapshotEntry(name, path, info.Length, info.LastWriteTimeUtc, metadata));
        }
        return NewestFirst(entries);
    }

    /// <summary>Newest first (by the recorded creation time, else the file's); a local copy before its S3 twin.</summary>
    public static IReadOnlyList<SnapshotEntry> NewestFirst(IEnumerable<SnapshotEntry> entries) =>
        entries.OrderByDescending(e => e.Metadata?.Created ?? e.Modified).ThenByDescending(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.InS3).ToList();

    /// <summary>A snapshot by name (as listed) or by file name in this folder.</summary>
    public SnapshotEntry? Find(string nameOrFile) =>
        List().FirstOrDefault(e => e.Name == nameOrFile || Path.GetFileName(e.Path) == nameOrFile);

    /// <summary>Deletes a snapshot and its metadata. False when there is no such snapshot.</summary>
    public bool Delete(string nameOrFile)
    {
        RequirePlainName(nameOrFile);
        if (Find(nameOrFile) is not { } entry)
        {
            return false;
        }
        File.Delete(entry.Path);
        TryDelete(MetadataPathOf(entry.Path));
        return true;
    }

    /// <summary>Keeps the newest <paramref name="retention"/> snapshots named <c>&lt;baseName&gt;-…</c> of the given kind; deletes older ones. Returns the deleted names.</summary>
    public IReadOnlyList<string> Prune(string baseName, string? kind, int retention)
    {
        var candidates = BeyondRetention(List(), baseName, kind, retention);
        foreach (var entry in candidates)
        {
            File.Delete(entry.Path);
            TryDelete(MetadataPathOf(entry.Path));
        }
        return candidates.Select(e => e.Name).ToList();
    }

    /// <summary>A snapshot name or file name, never a path: refuses '/' and dot names before anything is looked up.</summary>
    public static void RequirePlainName(string nameOrFile)
    {
        if (nameOrFile.Contains('/') || nameOrFile is "." or ".." or "")
        {
            throw new SnapshotException($"'{nameOrFile}' is not a snapshot name; give a name as shown by 'bulwark etcd-snapshot list'");
        }
    }

    /// <summary>
    /// The snapshots (newest first) beyond the newest <paramref name="retention"/> named <c>&lt;baseName&gt;-…</c> of the kind.
    /// Unverified files (no metadata, e.g. from an older Bulwark or copied in) of the same name count too, oldest pruned first.
    /// </summary>
    public static IReadOnlyList<SnapshotEntry> BeyondRetention(IReadOnlyList<SnapshotEntry> newestFirst, string baseName, string? kind, int retention)
    {
        if (retention < 1)
        {
            throw new SnapshotException($"retention must be at least 1 (got {retention})");
        }
        return newestFirst
            .Where(e => e.Name.StartsWith(baseName + "-", StringComparison.Ordinal) && (kind is null || e.Metadata is null || e.Metadata.Kind == kind))
            .Skip(retention)
            .ToList();
    }

    public static SnapshotMetadata? ReadMetadata(string snapshotPath)
    {
        var path = MetadataPathOf(snapshotPath);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), SnapshotJsonContext.Default.SnapshotMetadata);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Hidden .part files of interrupted saves, and metadata whose snapshot never appeared (a save killed before its rename).</summary>
    private void RemoveStaleParts()
    {
        foreach (var part in System.IO.Directory.EnumerateFiles(directory, ".*.part"))
        {
            TryDelete(part);
        }
        foreach (var metadata in System.IO.Directory.EnumerateFiles(directory, "*" + MetadataSuffix))
        {
            if (!File.Exists(metadata[..^MetadataSuffix.Length]))
            {
                TryDelete(metadata);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Hashes what is written through it (SHA-256 of the bytes on disk, without reading the file back).</summary>
internal sealed class HashingStream(Stream inner) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _hex;

    public string HashHex => _hex ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash.AppendData(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ = HashHex;
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
