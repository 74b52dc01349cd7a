using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Text;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Processes;
using CliWrap;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using ZstdSharp.Unsafe;
using ZstdSharp;

namespace Bulwark.Runtime;

/// <summary>One archive imported (or skipped because the cache says it is unchanged): the image names it provided.</summary>
public sealed record ImportedArchive(string Archive, IReadOnlyList<string> Images, long Bytes, TimeSpan Duration, bool Cached);

/// <summary>An archive that could not be imported: its name and why (nothing of it is listed).</summary>
public sealed record ImportFailure(string Archive, string Reason);

public sealed record ImportReport(IReadOnlyList<ImportedArchive> Imported, IReadOnlyList<ImportFailure> Failed, IReadOnlyList<string> Warnings);

/// <summary>
/// Imports image archives (docker-archive or OCI archive; plain tar, gzip or zstd) into containerd's k8s.io namespace,
/// streaming: the archive is decompressed in memory into <c>ctr images import -</c>, never to disk. Names are the ones
/// the kubelet asks for: docker references are normalised (busybox:1 → docker.io/library/busybox:1) and an OCI
/// archive's names come from its index.json, so nothing becomes ctr's "import-&lt;date&gt;". Public API for
/// <c>bulwark airgap import</c> too (<see cref="ImportAsync"/>).
/// </summary>
public sealed class ImageImporter(string socket, ILogger? logger = null)
{
    /// <summary>RKE2's tarballs use zstd --long=25; 2^27 (128 MiB) is zstd's own default limit and bounds memory.</summary>
    public const int MaxZstdWindowLog = 27;

    public static readonly string[] ArchiveSuffixes = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"];

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Imports one archive stream (any supported compression, detected from its first bytes).</summary>
    /// <param name="name">The archive's name, for messages.</param>
    /// <param name="progress">Called with the number of decompressed bytes read so far.</param>
    public async Task<ImportedArchive> ImportAsync(Stream archive, string name, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        var ctr = ProgramLocator.Require("ctr", "Install containerd (apt-get install containerd), which provides ctr.");
        var prefix = $"bulwark.import/{Guid.NewGuid():N}";
        await using var decompressed = await OpenDecompressedAsync(archive, name, cancellationToken).ConfigureAwait(false);
        var sniffer = new TarSniffingStream(decompressed, progress);
        var stderr = new StringBuilder();
        CommandResult result;
        try
        {
            result = await CliWrap.Cli.Wrap(ctr)
                .WithArguments(["--address", socket, "--namespace", RuntimePaths.KubernetesNamespace, "images", "import", "--base-name", prefix, "--digests", "-"])
                .WithStandardInputPipe(PipeSource.FromStream(sniffer))
                // ctr prints "unpacking …" lines: its stdout must be drained, else ctr dies of SIGPIPE after importing.
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(new StringBuilder()))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ZstdException)
        {
            await RemoveTemporaryNamesAsync(ctr, prefix, CancellationToken.None).ConfigureAwait(false);
            throw new BulwarkException(ErrorKind.Refused, $"{name}: not a readable image archive ({e.Message}); nothing was imported from it");
        }
        if (result.ExitCode != 0)
        {
            await RemoveTemporaryNamesAsync(ctr, prefix, CancellationToken.None).ConfigureAwait(false);
            throw new BulwarkException(ErrorKind.Refused,
                $"{name}: containerd refused the archive ({Tail(stderr.ToString())}); nothing was imported from it. Check it is a docker-archive or OCI archive (tar, tar.gz or tar.zst).");
        }
        try
        {
            var names = await NameImagesAsync(ctr, prefix, sniffer.Entries, name, cancellationToken).ConfigureAwait(false);
            return new ImportedArchive(name, names, sniffer.Position64, watch.Elapsed, Cached: false);
        }
        finally
        {
            await RemoveTemporaryNamesAsync(ctr, prefix, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Imports every archive in the folder (agent/images), skipping those the cache says are unchanged and still present.
    /// A bad archive is reported by name and skipped; the others still import.
    /// </summary>
    public async Task<ImportReport> ImportDirectoryAsync(string directory, string cacheFile, Func<string, long, Action<long>?>? progressFor = null,
        CancellationToken cancellationToken = default)
    {
        var imported = new List<ImportedArchive>();
        var failed = new List<ImportFailure>();
        var warnings = new List<string>();
        if (!Directory.Exists(directory))
        {
            return new ImportReport(imported, failed, warnings);
        }
        var cache = ImportCache.Load(cacheFile);
        using var cri = new CriClient(socket);
        foreach (var path in Directory.EnumerateFiles(directory).Where(IsArchive).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            var key = Path.GetFileName(path);
            var entry = cache.GetValueOrDefault(key);
            if (entry is not null && entry.Size == info.Length && entry.ModifiedTicks == info.LastWriteTimeUtc.Ticks && await AllPresentAsync(cri, entry.Images, cancellationToken).ConfigureAwait(false))
            {
                imported.Add(new ImportedArchive(key, entry.Images, info.Length, TimeSpan.Zero, Cached: true));
                continue;
            }
            try
            {
                ImportedArchive result;
                string digest;
                await using (var file = File.OpenRead(path))
                await using (var stream = new HashingReadStream(file))
                {
                    result = await ImportAsync(stream, key, progressFor?.Invoke(key, info.Length), cancellationToken).ConfigureAwait(false);
                    digest = "sha256:" + Convert.ToHexStringLower(stream.Hash());
                }
                cache[key] = new ImportCacheEntry(info.Length, info.LastWriteTimeUtc.Ticks, digest, result.Images.ToList());
                ImportCache.Save(cacheFile, cache);
                imported.Add(result);
                if (result.Images.Count == 0)
                {
                    warnings.Add($"{key}: imported, but it names no image the kubelet could ask for");
                }
            }
            catch (BulwarkException e)
            {
                _logger.LogWarning("{Error}", e.Message);
                failed.Add(new ImportFailure(key, e.Message));
            }
        }
        return new ImportReport(imported, failed, warnings);
    }

    public static bool IsArchive(string path) => ArchiveSuffixes.Any(s => path.EndsWith(s, StringComparison.Ordinal));

    /// <summary>Detects gzip and zstd from the magic bytes; anything else is read as a plain tar.</summary>
    public static async Task<Stream> OpenDecompressedAsync(Stream archive, string name, CancellationToken cancellationToken)
    {
        var head = new byte[4];
        var read = 0;
        while (read < head.Length && await archive.ReadAsync(head.AsMemory(read), cancellationToken).ConfigureAwait(false) is var n and > 0)
        {
            read += n;
        }
        var whole = new PrefixedStream(head.AsMemory(0, read), archive);
        if (read >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return new GZipStream(whole, CompressionMode.Decompress);
        }
        if (read == 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        {
            var zstd = new DecompressionStream(whole, bufferSize: 1 << 20, checkEndOfStream: true, leaveOpen: false);
            zstd.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxZstdWindowLog);
            return zstd;
        }
        return whole;
    }

    /// <summary>Gives every image of the archive the name the kubelet will ask for, from the metadata seen in the stream.</summary>
    private async Task<IReadOnlyList<string>> NameImagesAsync(string ctr, string prefix, Dictionary<string, byte[]> entries, string archive, CancellationToken cancellationToken)
    {
        var wanted = new List<(string Source, string Name)>();
        if (entries.TryGetValue("index.json", out var indexJson))
        {
            using var index = JsonDocument.Parse(indexJson);
            foreach (var manifest in index.RootElement.GetProperty("manifests").EnumerateArray())
            {
                var digest = manifest.GetProperty("digest").GetString()!;
                var annotations = manifest.TryGetProperty("annotations", out var a) ? a : default;
                var raw = Annotation(annotations, "io.containerd.image.name") ?? Annotation(annotations, "org.opencontainers.image.ref.name");
                if (raw is null)
                {
                    continue;
                }
                if (ImageReference.IsBareTag(raw) || ImageReference.TryParse(raw) is not { } reference)
                {
                    _logger.LogWarning("{Archive}: image {Digest} is named only \"{Raw}\", not a full reference; it is not named (recreate the archive with registry/repository:tag)", archive, digest, raw);
                    continue;
                }
                wanted.Add(($"{prefix}@{digest}", reference.ToString()));
            }
        }
        var names = new List<string>();
        if (entries.TryGetValue("manifest.json", out var manifestJson) && !entries.ContainsKey("index.json"))
        {
            // docker-archive: containerd itself names these from RepoTags, normalised.
            using var manifest = JsonDocument.Parse(manifestJson);
            foreach (var item in manifest.RootElement.EnumerateArray())
            {
                if (item.TryGetProperty("RepoTags", out var tags) && tags.ValueKind == JsonValueKind.Array)
                {
                    names.AddRange(tags.EnumerateArray().Select(t => t.GetString()).OfType<string>().Select(ImageReference.TryParse).OfType<ImageReference>().Select(r => r.ToString()));
                }
            }
        }
        foreach (var (source, name) in wanted)
        {
            await RunCtrAsync(ctr, ["images", "tag", "--force", source, name], cancellationToken).ConfigureAwait(false);
            names.Add(name);
        }
        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string? Annotation(JsonElement annotations, string key) =>
        annotations.ValueKind == JsonValueKind.Object && annotations.TryGetProperty(key, out var v) ? v.GetString() : null;

    private async Task RemoveTemporaryNamesAsync(string ctr, string prefix, CancellationToken cancellationToken)
    {
        try
        {
            var list = await RunCtrAsync(ctr, ["images", "ls", "-q"], cancellationToken).ConfigureAwait(false);
            var temporary = list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (temporary.Count > 0)
            {
                await RunCtrAsync(ctr, ["images", "rm", .. temporary], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (BulwarkException e)
        {
            _logger.LogWarning("could not remove temporary import names {Prefix}@*: {Error}", prefix, e.Message);
        }
    }

    private async Task<string> RunCtrAsync(string ctr, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var result = await CliWrap.Cli.Wrap(ctr).WithArguments(["--address", socket, "--namespace", RuntimePaths.KubernetesNamespace, .. args])
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? stdout.ToString()
            : throw new BulwarkException(ErrorKind.Unavailable, $"ctr {string.Join(' ', args)}: exited with {result.ExitCode}: {Tail(stderr.ToString())}");
    }

    private static async Task<bool> AllPresentAsync(CriClient cri, IReadOnlyList<string> images, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            if (await cri.ImageIdAsync(image, cancellationToken).ConfigureAwait(false) is null)
            {
                return false;
            }
        }
        return true;
    }

    private static string Tail(string text)
    {
        var t = text.Trim();
        return t.Length <= 400 ? t : "…" + t[^400..];
    }
}
