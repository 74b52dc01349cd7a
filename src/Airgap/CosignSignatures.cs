using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.Pipeline;

namespace Bulwark.Airgap;

/// <summary>
/// cosign's signature storage in a registry: an OCI manifest tagged <c>sha256-&lt;hex&gt;.sig</c> in the image's
/// repository, whose layer is the simple-signing payload with the base64 DER signature in an annotation.
/// </summary>
public static class CosignSignatures
{
    public static async Task PushAsync(RegistryClient client, string repository, string imageDigest, byte[] payload, byte[] signature, CryptoService crypto,
        CancellationToken cancellationToken)
    {
        var payloadDigest = Digests.Prefix + Digests.Sha256(crypto, payload);
        var config = System.Text.Encoding.UTF8.GetBytes($"{{\"architecture\":\"\",\"os\":\"\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{payloadDigest}\"]}}}}");
        var configDigest = Digests.Prefix + Digests.Sha256(crypto, config);
        await client.PushBlobAsync(repository, payloadDigest, () => new MemoryStream(payload), payload.Length, cancellationToken).ConfigureAwait(false);
        await client.PushBlobAsync(repository, configDigest, () => new MemoryStream(config), config.Length, cancellationToken).ConfigureAwait(false);
        var manifest = new OciManifest(2, OciMediaTypes.OciManifest, new OciDescriptor(OciMediaTypes.OciConfig, configDigest, config.Length),
            [new OciDescriptor(SimpleSigningPayload.MediaType, payloadDigest, payload.Length, null,
                new Dictionary<string, string> { [SimpleSigningPayload.SignatureAnnotation] = Convert.ToBase64String(signature) })]);
        await client.PutManifestAsync(repository, SimpleSigningPayload.SignatureTag(imageDigest),
            JsonSerializer.SerializeToUtf8Bytes(manifest, AirgapJsonContext.Default.OciManifest), OciMediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The (payload, signature) pairs stored for an image; empty when it has no signature tag.</summary>
    public static async Task<IReadOnlyList<(byte[] Payload, byte[] Signature)>> FetchAsync(RegistryClient client, string repository, string imageDigest,
        string scratch, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            (bytes, _, _) = await client.GetManifestAsync(repository, SimpleSigningPayload.SignatureTag(imageDigest), cancellationToken).ConfigureAwait(false);
        }
        catch (PipelineException e) when (e.Failure == PipelineFailure.Input && e.Message.Contains("HTTP 404", StringComparison.Ordinal))
        {
            return [];
        }
        var manifest = OciJson.ParseManifest(bytes, $"{repository}:{SimpleSigningPayload.SignatureTag(imageDigest)}");
        var pairs = new List<(byte[], byte[])>();
        foreach (var layer in manifest.Layers.Where(l => l.MediaType == SimpleSigningPayload.MediaType && l.Size <= 1 << 20))
        {
            if (layer.Annotations?.GetValueOrDefault(SimpleSigningPayload.SignatureAnnotation) is not { } encoded)
            {
                continue;
            }
            var path = Path.Combine(scratch, Guid.NewGuid().ToString("N"));
            await client.DownloadBlobAsync(repository, layer, path, null, cancellationToken).ConfigureAwait(false);
            pairs.Add((await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), Convert.FromBase64String(encoded)));
        }
        return pairs;
    }
}
