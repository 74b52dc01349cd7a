using System.Formats.Tar;
using System.Text.Json;
using System.Text;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>
/// Builds a bundle: pulls every image (each blob once, checked against its digest) into a staging folder beside the
/// output, writes each image's SBOM, scan and signature, signs the index, then writes the archive to a temp file and
/// renames it into place. The staging folder survives an interruption, so a rerun fetches only the missing blobs.
/// </summary>
public sealed class BundleWriter(CryptoService crypto, TimeProvider time, TransferProgress progress)
{
    public const string BlobsFolder = "blobs/sha256";

    public async Task<BundleIndex> WriteAsync(BundleRequest request, CancellationToken cancellationToken)
    {
        var output = Path.GetFullPath(request.Output);
        var staging = output + ".partial";
        AtomicFile.EnsureDirectory(staging, AtomicFile.PrivateDirectory);
        Directory.CreateDirectory(Path.Combine(staging, BlobsFolder));
        // Manifests first: a refused manifest should not cost a pull.
        var manifests = StageManifests(request, staging);
        var images = new List<BundleImage>();
        foreach (var reference in request.Images)
        {
            images.AddRange(await PullAsync(reference, request, staging, cancellationToken).ConfigureAwait(false));
        }
        foreach (var file in request.Files)
        {
            if (!File.Exists(file))
            {
                throw new PipelineException($"--files {file}: no such file");
            }
            var target = Path.Combine(staging, "files", Path.GetFileName(file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        WriteLayout(staging, images);
        var files = await ListFilesAsync(staging, cancellationToken).ConfigureAwait(false);
        var index = new BundleIndex(BundleIndex.FormatName, BundleIndex.CurrentVersion,
            time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), $"bulwark {request.ToolVersion}",
            request.Platforms.Select(p => p.ToString()).ToList(), images, files, manifests);
        var indexBytes = JsonSerializer.SerializeToUtf8Bytes(index, AirgapJsonContext.Default.BundleIndex);
        var signature = new ArtifactSigner(crypto).Sign(request.SigningKey, indexBytes);
        await WriteArchiveAsync(output, staging, indexBytes, signature, files, cancellationToken).ConfigureAwait(false);
        Directory.Delete(staging, recursive: true);
        return index;
    }

    /// <summary>
    /// Gates each --manifests path at the request's Pod Security level, then copies what it scanned under manifests/ (a folder
    /// keeps its name and inner layout). Restaged on every run, so a rerun after an edit carries the edited files.
    /// </summary>
    private static BundleManifests? StageManifests(BundleRequest request, string staging)
    {
        if (request.Manifests is not { Count: > 0 } paths)
        {
            return null;
        }
        var gate = request.ManifestGate ?? throw new ArgumentException("manifests to bundle need a gate", nameof(request));
        var folder = Path.Combine(staging, BundleManifests.Folder);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        var carried = new List<string>();
        var workloads = 0;
        foreach (var path in paths)
        {
            var scan = gate.Check(path, file => file, $"--manifests {path}");
            if (scan.Files.Count == 0)
            {
                throw new PipelineException($"--manifests {path}: no manifest files (*.yaml, *.yml, *.json) in that folder", PipelineFailure.Input);
            }
            workloads += scan.Workloads.Count;
            var root = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)))!;
            foreach (var file in scan.Files)
            {
                var relative = $"{BundleManifests.Folder}/{Path.GetRelativePath(root, Path.GetFullPath(file))}";
                if (carried.Contains(relative, StringComparer.Ordinal))
                {
                    throw new PipelineException($"--manifests {path}: a second file would be carried as {relative}; rename one of them", PipelineFailure.Input);
                }
                var destination = Path.Combine(staging, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Copy(file, destination);
                carried.Add(relative);
            }
        }
        return new BundleManifests(gate.Level.ToString().ToLowerInvariant(), carried, workloads);
    }

    private async Task<List<BundleImage>> PullAsync(ImageReference reference, BundleRequest request, string staging, CancellationToken cancellationToken)
    {
        PipelineException? last = null;
        foreach (var endpoint in RegistryEndpoint.Resolve(request.Registries, reference.Registry))
        {
            using var client = new RegistryClient(endpoint, crypto);
            try
            {
                return await PullFromAsync(client, reference, request, staging, cancellationToken).ConfigureAwait(false);
            }
            catch (PipelineException e) when (e.Failure != PipelineFailure.Refused)
            {
                // A mirror that is down or lacks the image: try the next endpoint (as containerd does).
                last = e;
            }
        }
        throw new PipelineException($"{reference}: no endpoint served it. Last error: {last?.Message}", last?.Failure ?? PipelineFailure.Tool, last);
    }

    private async Task<List<BundleImage>> PullFromAsync(RegistryClient client, ImageReference reference, BundleRequest request, string staging,
        CancellationToken cancellationToken)
    {
        var (bytes, mediaType, digest) = await client.GetManifestAsync(reference.Repository, reference.Reference, cancellationToken).ConfigureAwait(false);
        var chosen = new List<(byte[] Bytes, string MediaType, string Digest, OciPlatform? Platform)>();
        if (OciMediaTypes.IsIndex(mediaType))
        {
            var index = OciJson.ParseIndex(bytes, $"{reference}");
            foreach (var platform in request.Platforms)
            {
                var match = index.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == platform.Os && p.Architecture == platform.Architecture
                    && (platform.Variant is null || p.Variant == platform.Variant))
                    ?? throw new PipelineException($"{reference}: no manifest for {platform} (it has {string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString() ?? "?"))})");
                var (b, t, d) = await client.GetManifestAsync(reference.Repository, match.Digest, cancellationToken).ConfigureAwait(false);
                chosen.Add((b, t, d, match.Platform));
            }
        }
        else if (OciMediaTypes.IsManifest(mediaType))
        {
            chosen.Add((bytes, mediaType, digest, request.Platforms.Count == 1 ? request.Platforms[0] : null));
        }
        else
        {
            throw new PipelineException($"{reference}: unsupported manifest type {mediaType}", PipelineFailure.Refused);
        }
        var images = new List<BundleImage>();
        foreach (var (manifestBytes, manifestType, manifestDigest, platform) in chosen)
        {
            var manifest = OciJson.ParseManifest(manifestBytes, $"{reference}@{manifestDigest}");
            var blobs = manifest.Layers.Prepend(manifest.Config).ToList();
            progress.Step($"{reference.Name}{(platform is null ? "" : " " + platform)}", blobs.Sum(b => b.Size));
            foreach (var blob in blobs)
            {
                var hex = Digests.Hex(blob.Digest, $"{reference} manifest");
                var path = Path.Combine(staging, BlobsFolder, hex);
                if (File.Exists(path) && new FileInfo(path).Length == blob.Size)
                {
                    progress.Add(blob.Size); // verified before it was renamed into place: a resumed run keeps it
                    continue;
                }
                var partial = path + ".download";
                await client.DownloadBlobAsync(reference.Repository, blob, partial, progress.Add, cancellationToken).ConfigureAwait(false);
                File.Move(partial, path, overwrite: true);
            }
            progress.Finish();
            var manifestHex = Digests.Hex(manifestDigest, $"{reference}");
            AtomicFile.WriteAllBytes(Path.Combine(staging, BlobsFolder, manifestHex), manifestBytes, AtomicFile.Private);
            images.Add(await DescribeAsync(reference, manifestType, manifestDigest, manifestBytes.Length, platform, manifest, request, staging, cancellationToken)
                .ConfigureAwait(false));
        }
        return images;
    }

    /// <summary>SBOM, scan and signature of one image manifest.</summary>
    private async Task<BundleImage> DescribeAsync(ImageReference reference, string mediaType, string digest, long size, OciPlatform? platform,
        OciManifest manifest, BundleRequest request, string staging, CancellationToken cancellationToken)
    {
        var hex = digest[Digests.Prefix.Length..];
        var sbomPath = $"bulwark/sbom/{hex}.cdx.json";
        var bom = SbomBuilder.FromLayers(reference.Name, digest,
            manifest.Layers.Select(l => (l.Digest, (Func<Stream>)(() => File.OpenRead(Path.Combine(staging, BlobsFolder, l.Digest[Digests.Prefix.Length..]))))),
            request.ToolVersion, time);
        WriteStaged(staging, sbomPath, Encoding.UTF8.GetBytes(SbomBuilder.ToJson(bom)));
        string? reportPath = null, scanPath = null, notScanned = null;
        if (request.Trivy is { } trivy)
        {
            using var work = new ScratchDirectory("bulwark-trivy");
            var run = trivy.Stage.PlanSbom(Path.Combine(staging, sbomPath), work.Path);
            var report = await trivy.Stage.RunAsync(run, trivy.DbDirectory, cancellationToken).ConfigureAwait(false);
            var verdict = Gate.Evaluate(reference.Name, digest, report, trivy.Policy with { RequireSignatures = false }, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
            if (!verdict.Passed)
            {
                throw new PipelineException($"{reference.Name}: the gate refused it: {string.Join("; ", verdict.Problems)}", PipelineFailure.Refused);
            }
            reportPath = $"bulwark/scan/{hex}.trivy.json";
            scanPath = $"bulwark/scan/{hex}.json";
            File.Copy(run.ReportPath, Path.Combine(staging, reportPath), overwrite: true);
            WriteStaged(staging, scanPath, JsonSerializer.SerializeToUtf8Bytes(verdict, PipelineJsonContext.Default.ScanResult));
        }
        else
        {
            notScanned = "bundled without a Trivy DB (--trivy-cache): no vulnerability scan";
        }
        var payloadPath = $"bulwark/signatures/{hex}.payload.json";
        var signaturePath = $"bulwark/signatures/{hex}.sig";
        var payload = SimpleSigningPayload.For($"{reference.Registry}/{reference.Repository}", digest).ToBytes();
        WriteStaged(staging, payloadPath, payload);
        WriteStaged(staging, signaturePath, new ArtifactSigner(crypto).Sign(request.SigningKey, payload));
        return new BundleImage(reference.Name, digest, mediaType, size, platform, sbomPath, reportPath, scanPath, notScanned, payloadPath, signaturePath);
    }

    private static void WriteStaged(string staging, string relative, byte[] content)
    {
        var path = Path.Combine(staging, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, content, AtomicFile.Private);
    }

    /// <summary>The OCI image layout: oci-layout and index.json naming each image (containerd and skopeo read the names).</summary>
    private static void WriteLayout(string staging, IReadOnlyList<BundleImage> images)
    {
        WriteStaged(staging, "oci-layout", JsonSerializer.SerializeToUtf8Bytes(new OciLayoutFile("1.0.0"), AirgapJsonContext.Default.OciLayoutFile));
        var index = new OciIndex(2, OciMediaTypes.OciIndex, images.Select(i => new OciDescriptor(i.MediaType, i.Digest, i.Size, i.Platform,
            new Dictionary<string, string> { [OciMediaTypes.RefNameAnnotation] = i.Name, [OciMediaTypes.ContainerdNameAnnotation] = i.Name })).ToList());
        WriteStaged(staging, "index.json", JsonSerializer.SerializeToUtf8Bytes(index, AirgapJsonContext.Default.OciIndex));
    }

    /// <summary>Every staged file with its sha256; blobs were checked against their names when fetched, so their name is their hash.</summary>
    private async Task<List<BundleFile>> ListFilesAsync(string staging, CancellationToken cancellationToken)
    {
        var files = new List<BundleFile>();
        foreach (var path in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(staging, path).Replace('\\', '/');
            if (relative.EndsWith(".download", StringComparison.Ordinal))
            {
                File.Delete(path);
                continue;
            }
            var sha = relative.StartsWith(BlobsFolder + "/", StringComparison.Ordinal)
                ? Path.GetFileName(relative)
                : await Digests.Sha256FileAsync(crypto, path, cancellationToken).ConfigureAwait(false);
            files.Add(new BundleFile(relative, sha, new FileInfo(path).Length));
        }
        return files;
    }

    /// <summary>Index and signature first (so verify can check the signature before reading anything else), then the files.</summary>
    private static async Task WriteArchiveAsync(string output, string staging, byte[] index, byte[] signature, IReadOnlyList<BundleFile> files,
        CancellationToken cancellationToken)
    {
        var temp = Path.Combine(Path.GetDirectoryName(output)!, $".{Path.GetFileName(output)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = AtomicFile.WorldReadable, BufferSize = 1 << 20, Options = FileOptions.Asynchronous,
            }))
            {
                await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
                {
                    await WriteEntryAsync(tar, BundleIndex.IndexPath, index, cancellationToken).ConfigureAwait(false);
                    await WriteEntryAsync(tar, BundleIndex.SignaturePath, signature, cancellationToken).ConfigureAwait(false);
                    foreach (var file in files)
                    {
                        await using var data = new FileStream(Path.Combine(staging, file.Path), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
                        var entry = new PaxTarEntry(TarEntryType.RegularFile, file.Path) { DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
                        await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                    }
                }
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, output, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static async Task WriteEntryAsync(TarWriter tar, string name, byte[] content, CancellationToken cancellationToken)
    {
        using var data = new MemoryStream(content, writable: false);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
        await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}
