using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>
/// Checks a bundle in one pass over the archive: the index signature first (against the operator's public keys),
/// then the sha256 and size of every file against the index (nothing missing, nothing extra), then each image's
/// signature, its manifest's blobs, and the gate again with the local policy. Optionally extracts what it checked
/// into a folder, so an import uses exactly the verified bytes.
/// </summary>
public sealed class BundleVerifier(CryptoService crypto, TimeProvider time)
{
    private const long KeepInMemory = 4 << 20;

    public async Task<BundleVerification> VerifyAsync(string archive, IReadOnlyList<AsymmetricAlgorithm> keys, IReadOnlyList<string> keyNames,
        GatePolicy policy, bool requireScan, ManifestGate manifestGate, string? extractTo, TransferProgress? progress, CancellationToken cancellationToken)
    {
        if (!File.Exists(archive))
        {
            throw new PipelineException($"{archive}: no such bundle");
        }
        await using var stream = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        progress?.Step($"verifying {Path.GetFileName(archive)}", stream.Length);
        await using var tar = new TarReader(stream);
        var indexBytes = await ReadSmallAsync(tar, BundleIndex.IndexPath, archive, cancellationToken).ConfigureAwait(false);
        var signature = await ReadSmallAsync(tar, BundleIndex.SignaturePath, archive, cancellationToken).ConfigureAwait(false);
        var signer = new ArtifactSigner(crypto);
        var keyIndex = signer.Verify(keys, indexBytes, signature);
        if (keyIndex < 0)
        {
            throw new PipelineException($"{archive}: the index signature does not verify with {string.Join(", ", keyNames)}: the bundle was signed with another key or altered. Nothing was imported.",
                PipelineFailure.Refused);
        }
        BundleIndex index;
        try
        {
            index = JsonSerializer.Deserialize(indexBytes, AirgapJsonContext.Default.BundleIndex) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{archive}: {BundleIndex.IndexPath} is signed but not a bundle index ({e.Message})", PipelineFailure.Refused, e);
        }
        if (index.Format != BundleIndex.FormatName || index.Version != BundleIndex.CurrentVersion)
        {
            throw new PipelineException($"{archive}: bundle format {index.Format} v{index.Version} is not supported (expected {BundleIndex.FormatName} v{BundleIndex.CurrentVersion}); use a matching bulwark", PipelineFailure.Refused);
        }
        var expected = index.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var buffer = new byte[1 << 20];
        long bytes = 0;
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var name = entry.Name;
            if (entry.EntryType is TarEntryType.Directory)
            {
                continue;
            }
            if (!expected.TryGetValue(name, out var file) || !seen.Add(name) || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                throw new PipelineException($"{archive}: '{name}' is not listed in the signed index (or appears twice): the archive was altered. Nothing was imported.", PipelineFailure.Refused);
            }
            if (LayerFiles.Normalize(name) != name || name.Split('/').Contains(".."))
            {
                throw new PipelineException($"{archive}: '{name}' is not a plain relative path; refusing to extract it", PipelineFailure.Refused);
            }
            using var hash = Digests.Incremental(crypto);
            FileStream? extracted = null;
            if (extractTo is not null)
            {
                var target = Path.Combine(extractTo, name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                extracted = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            }
            var keep = entry.Length <= KeepInMemory ? new MemoryStream((int)entry.Length) : null;
            long length = 0;
            await using (extracted)
            {
                if (entry.DataStream is { } data)
                {
                    int read;
                    while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        length += read;
                        keep?.Write(buffer, 0, read);
                        if (extracted is not null)
                        {
                            await extracted.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        }
                        progress?.Add(read);
                    }
                }
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (length != file.Size || !CryptoService.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(file.Sha256)))
            {
                throw new PipelineException($"{archive}: {name} has sha256 {actual} ({length} bytes); the signed index says {file.Sha256} ({file.Size} bytes): " +
                    "the file was altered or damaged in transit. Nothing was imported; copy the bundle again.", PipelineFailure.Refused);
            }
            if (name.StartsWith(BundleWriter.BlobsFolder + "/", StringComparison.Ordinal) && Path.GetFileName(name) != actual)
            {
                throw new PipelineException($"{archive}: blob {name} does not hash to its name", PipelineFailure.Refused);
            }
            bytes += length;
            if (keep is not null)
            {
                small[name] = keep.ToArray();
            }
        }
        progress?.Finish();
        var missing = index.Files.Select(f => f.Path).Where(p => !seen.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            throw new PipelineException($"{archive}: {missing.Count} file(s) of the signed index are missing from the archive (first: {missing[0]}); the bundle is truncated. Copy it again.", PipelineFailure.Refused);
        }
        var verdicts = index.Images.Select(image => CheckImage(archive, image, small, expected, signer, keys, keyNames, policy, requireScan)).ToList();
        var manifests = index.Manifests is { } carried ? CheckManifests(archive, carried, small, manifestGate) : null;
        return new BundleVerification(index, keyNames[keyIndex], verdicts, bytes, manifests);
    }

    /// <summary>The carried manifests against the local Pod Security level (the bundle's own verdict is not trusted alone).</summary>
    private static ManifestScan CheckManifests(string archive, BundleManifests carried, Dictionary<string, byte[]> small, ManifestGate gate)
    {
        using var scratch = new ScratchDirectory("bulwark-manifests");
        foreach (var path in carried.Files)
        {
            if (!path.StartsWith(BundleManifests.Folder + "/", StringComparison.Ordinal) || !small.TryGetValue(path, out var content))
            {
                throw new PipelineException($"{archive}: manifest {path} is not a file of the bundle under {BundleManifests.Folder}/ (or is over 4 MiB)", PipelineFailure.Refused);
            }
            var target = Path.Combine(scratch.Path, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, content);
        }
        return gate.Check(Path.Combine(scratch.Path, BundleManifests.Folder), file => Path.GetRelativePath(scratch.Path, file),
            $"{archive}: the manifests it carries (nothing was imported)");
    }

    private ImageVerdict CheckImage(string archive, BundleImage image, Dictionary<string, byte[]> small, Dictionary<string, BundleFile> files,
        ArtifactSigner signer, IReadOnlyList<AsymmetricAlgorithm> keys, IReadOnlyList<string> keyNames, GatePolicy policy, bool requireScan)
    {
        var where = $"{archive}: {image.Name}";
        byte[] Small(string path) => small.TryGetValue(path, out var b) ? b : throw new PipelineException($"{where}: {path} is missing or too large", PipelineFailure.Refused);
        var payloadBytes = Small(image.SignaturePayload);
        var payload = SimpleSigningPayload.Parse(payloadBytes, $"{where}: {image.SignaturePayload}");
        var reference = BundleImageNames.Parse(image.Name, where);
        if (payload.Critical.Image.DockerManifestDigest != image.Digest || payload.Critical.Identity.DockerReference != $"{reference.Registry}/{reference.Repository}")
        {
            throw new PipelineException($"{where}: the signature payload names {payload.Critical.Identity.DockerReference}@{payload.Critical.Image.DockerManifestDigest}, not this image", PipelineFailure.Refused);
        }
        var signedBy = signer.Verify(keys, payloadBytes, Small(image.Signature));
        if (signedBy < 0)
        {
            throw new PipelineException($"{where}: the image signature does not verify with {string.Join(", ", keyNames)}. Nothing was imported.", PipelineFailure.Refused);
        }
        var manifestPath = $"{BundleWriter.BlobsFolder}/{Digests.Hex(image.Digest, where)}";
        var manifest = OciJson.ParseManifest(Small(manifestPath), $"{where}: {manifestPath}");
        foreach (var blob in manifest.Layers.Prepend(manifest.Config))
        {
            var path = $"{BundleWriter.BlobsFolder}/{Digests.Hex(blob.Digest, where)}";
            if (!files.TryGetValue(path, out var file) || file.Size != blob.Size)
            {
                throw new PipelineException($"{where}: blob {blob.Digest} of its manifest is not in the bundle", PipelineFailure.Refused);
            }
        }
        var sbom = JsonDocument.Parse(Small(image.Sbom));
        var packages = sbom.RootElement.TryGetProperty("components", out var components) ? components.GetArrayLength() : 0;
        ScanResult? scan = null;
        if (image.TrivyReport is { } reportPath)
        {
            var report = TrivyStage.ParseReport(System.Text.Encoding.UTF8.GetString(Small(reportPath)), $"{where}: {reportPath}");
            scan = Gate.Evaluate(image.Name, image.Digest, report, policy with { RequireSignatures = false }, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
                $"verified with {keyNames[signedBy]}", signatureValid: true);
            if (!scan.Passed)
            {
                throw new PipelineException($"{where}: the local gate refuses it: {string.Join("; ", scan.Problems)}. Nothing was imported.", PipelineFailure.Refused);
            }
        }
        else if (requireScan)
        {
            throw new PipelineException($"{where}: not scanned ({image.NotScanned}) and --require-scan is set. Nothing was imported.", PipelineFailure.Refused);
        }
        return new ImageVerdict(image.Name, image.Digest, image.Platform, keyNames[signedBy], scan, image.NotScanned, packages);
    }

    private static async Task<byte[]> ReadSmallAsync(TarReader tar, string expectedName, string archive, CancellationToken cancellationToken)
    {
        var entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        if (entry is null || entry.Name != expectedName || entry.DataStream is null || entry.Length > KeepInMemory)
        {
            throw new PipelineException($"{archive}: not a Bulwark bundle, or its signature is missing (expected '{expectedName}' " +
                $"{(expectedName == BundleIndex.IndexPath ? "first" : "second")}, found '{entry?.Name}'). Nothing was imported.", PipelineFailure.Refused);
        }
        using var copy = new MemoryStream();
        await entry.DataStream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return copy.ToArray();
    }
}
