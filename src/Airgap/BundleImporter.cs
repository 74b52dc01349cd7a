using System.Formats.Tar;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pipeline;
using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>
/// Imports a bundle after verifying it in full: nothing reaches a registry or containerd before every digest, the
/// index signature, every image signature and the local gate pass. Into a registry, blobs go first and each tag last,
/// so an interruption leaves no half-imported image visible; re-running is idempotent (blobs already there are skipped).
/// For containerd, one OCI archive per image lands in agent/images/ by rename, where the runtime imports it on start.
/// </summary>
public sealed class BundleImporter(CryptoService crypto, TimeProvider time, TransferProgress progress)
{
    public async Task<ImportResult> ImportAsync(ImportRequest request, CancellationToken cancellationToken)
    {
        if (request.Registry is null && request.ImagesDirectory is null)
        {
            throw new PipelineException("airgap import: say where to: --registry HOST:PORT and/or --images-dir DIR (default <data-dir>/agent/images)");
        }
        // Extract beside the destination so the final step is a rename on one file system.
        var scratchParent = request.ImagesDirectory is { } dir ? EnsureImagesDirectory(dir) : null;
        using var scratch = new ScratchDirectory("bulwark-import", scratchParent);
        var verification = await new BundleVerifier(crypto, time).VerifyAsync(request.Bundle, request.Keys, request.KeyNames, request.Policy,
            request.RequireScan, request.ManifestGate, scratch.Path, progress, cancellationToken).ConfigureAwait(false);
        var pushed = new List<string>();
        if (request.Registry is { } registry)
        {
            pushed.AddRange(await PushAsync(verification.Index, scratch.Path, registry, cancellationToken).ConfigureAwait(false));
            if (request.RegistriesFile is { } registriesPath)
            {
                registry.MirrorIn(Runtime.RegistriesFile.Load(registriesPath), verification.Index.Images.Select(i => BundleImageNames.Parse(i.Name, "bundle").Registry))
                    .Write(registriesPath);
            }
        }
        var archives = new List<string>();
        if (request.ImagesDirectory is { } imagesDirectory)
        {
            foreach (var group in verification.Index.Images.GroupBy(i => i.Name, StringComparer.Ordinal))
            {
                archives.Add(await WriteImageArchiveAsync(group.Key, group.ToList(), scratch.Path, imagesDirectory, cancellationToken).ConfigureAwait(false));
            }
        }
        var manifests = request.ManifestsDirectory is { } manifestsDirectory && verification.Index.Manifests is { } carried
            ? WriteManifests(carried, scratch.Path, manifestsDirectory)
            : [];
        return new ImportResult(verification, pushed, archives, request.Registry is not null ? request.RegistriesFile : null, manifests);
    }

    /// <summary>The verified manifests into the folder (server/manifests applies them), each written atomically, 0600 as RKE2 keeps them.</summary>
    private static List<string> WriteManifests(BundleManifests carried, string root, string directory)
    {
        var written = new List<string>();
        foreach (var path in carried.Files)
        {
            var target = Path.Combine(directory, Path.GetRelativePath(BundleManifests.Folder, path));
            AtomicFile.EnsureDirectory(Path.GetDirectoryName(target)!, AtomicFile.PrivateDirectory);
            AtomicFile.WriteAllBytes(target, File.ReadAllBytes(Path.Combine(root, path)), AtomicFile.Private);
            written.Add(target);
        }
        return written;
    }

    private static string EnsureImagesDirectory(string directory)
    {
        AtomicFile.EnsureDirectory(directory, AtomicFile.PrivateDirectory);
        return directory;
    }

    private async Task<List<string>> PushAsync(BundleIndex index, string root, RegistryEndpoint registry, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(registry, crypto);
        var pushed = new List<string>();
        var groups = index.Images.GroupBy(i => i.Name, StringComparer.Ordinal).ToList();
        // Blobs of every image first: until a manifest names them they are invisible.
        foreach (var group in groups)
        {
            var target = BundleImageNames.Parse(group.Key, "bundle").In(registry.Host);
            var manifests = group.Select(image => (image, manifest: ReadManifest(root, image))).ToList();
            var blobs = manifests.SelectMany(m => m.manifest.Layers.Prepend(m.manifest.Config)).DistinctBy(b => b.Digest).ToList();
            progress.Step($"pushing {target.Name}", blobs.Sum(b => b.Size));
            foreach (var blob in blobs)
            {
                var path = BlobPath(root, blob.Digest);
                await client.PushBlobAsync(target.Repository, blob.Digest, () => File.OpenRead(path), blob.Size, cancellationToken).ConfigureAwait(false);
                progress.Add(blob.Size);
            }
            progress.Finish();
        }
        foreach (var group in groups)
        {
            var target = BundleImageNames.Parse(group.Key, "bundle").In(registry.Host);
            foreach (var image in group)
            {
                await client.PutManifestAsync(target.Repository, image.Digest, await File.ReadAllBytesAsync(BlobPath(root, image.Digest), cancellationToken).ConfigureAwait(false),
                    image.MediaType, cancellationToken).ConfigureAwait(false);
                await CosignSignatures.PushAsync(client, target.Repository, image.Digest, await File.ReadAllBytesAsync(Path.Combine(root, image.SignaturePayload), cancellationToken).ConfigureAwait(false),
                    await File.ReadAllBytesAsync(Path.Combine(root, image.Signature), cancellationToken).ConfigureAwait(false), crypto, cancellationToken).ConfigureAwait(false);
            }
            if (target.Tag is { } tag)
            {
                var (bytes, mediaType) = TagTarget(group.ToList(), root);
                await client.PutManifestAsync(target.Repository, tag, bytes, mediaType, cancellationToken).ConfigureAwait(false);
            }
            pushed.Add(target.Name);
        }
        return pushed;
    }

    /// <summary>One platform: the manifest itself; several: a new OCI index over them.</summary>
    private static (byte[] Bytes, string MediaType) TagTarget(IReadOnlyList<BundleImage> images, string root)
    {
        if (images.Count == 1)
        {
            return (File.ReadAllBytes(BlobPath(root, images[0].Digest)), images[0].MediaType);
        }
        var index = new OciIndex(2, OciMediaTypes.OciIndex, images.Select(i => new OciDescriptor(i.MediaType, i.Digest, i.Size, i.Platform)).ToList());
        return (JsonSerializer.SerializeToUtf8Bytes(index, AirgapJsonContext.Default.OciIndex), OciMediaTypes.OciIndex);
    }

    /// <summary>
    /// An OCI archive of one image (uncompressed tar: what containerd's import takes), named after the image, written
    /// to a temp name in agent/images and renamed into place.
    /// </summary>
    private static async Task<string> WriteImageArchiveAsync(string name, IReadOnlyList<BundleImage> images, string root, string directory, CancellationToken cancellationToken)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        var final = Path.Combine(directory, $"{safe}.tar");
        var temp = Path.Combine(directory, $".{safe}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = AtomicFile.Private, BufferSize = 1 << 20 }))
            {
                await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
                {
                    var index = new OciIndex(2, OciMediaTypes.OciIndex, images.Select(i => new OciDescriptor(i.MediaType, i.Digest, i.Size, i.Platform,
                        new Dictionary<string, string> { [OciMediaTypes.RefNameAnnotation] = i.Name, [OciMediaTypes.ContainerdNameAnnotation] = i.Name })).ToList());
                    await AddAsync(tar, "oci-layout", JsonSerializer.SerializeToUtf8Bytes(new OciLayoutFile("1.0.0"), AirgapJsonContext.Default.OciLayoutFile), cancellationToken).ConfigureAwait(false);
                    await AddAsync(tar, "index.json", JsonSerializer.SerializeToUtf8Bytes(index, AirgapJsonContext.Default.OciIndex), cancellationToken).ConfigureAwait(false);
                    var digests = images.SelectMany(i => ReadManifest(root, i) is var m ? m.Layers.Prepend(m.Config).Select(b => b.Digest).Prepend(i.Digest) : []).Distinct();
                    foreach (var digest in digests)
                    {
                        await tar.WriteEntryAsync(BlobPath(root, digest), $"{BundleWriter.BlobsFolder}/{digest[Digests.Prefix.Length..]}", cancellationToken).ConfigureAwait(false);
                    }
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
            return final;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static async Task AddAsync(TarWriter tar, string name, byte[] content, CancellationToken cancellationToken)
    {
        using var data = new MemoryStream(content, writable: false);
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite }, cancellationToken)
            .ConfigureAwait(false);
    }

    private static OciManifest ReadManifest(string root, BundleImage image) => OciJson.ParseManifest(File.ReadAllBytes(BlobPath(root, image.Digest)), image.Name);

    private static string BlobPath(string root, string digest) => Path.Combine(root, BundleWriter.BlobsFolder, Digests.Hex(digest, "bundle"));
}
