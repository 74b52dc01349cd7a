using Bulwark.Crypto;
using Bulwark.Kms.V2;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Kms;

/// <summary>
/// The KMS v2 gRPC service kube-apiserver calls: Encrypt seals its DEK seed under the current key-encryption key,
/// Decrypt opens it under whichever retained key the key_id names, Status reports health and the current key_id.
/// </summary>
internal sealed class KmsPluginService(KmsKeyHolder keys, CryptoService crypto) : KeyManagementService.KeyManagementServiceBase
{
    /// <summary>The KMS API version; the EncryptionConfiguration's kms apiVersion must be the same.</summary>
    public const string ApiVersion = "v2";
    public const string Healthy = "ok";

    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        await keys.RefreshAsync(context.CancellationToken).ConfigureAwait(false);
        var keyring = keys.Keyring;
        var healthz = keys.ReloadError is { } error ? "keyring reload failed: " + error : Probe(keyring.Current);
        return new StatusResponse { Version = ApiVersion, Healthz = healthz, KeyId = keyring.Current.Id };
    }

    public override Task<EncryptResponse> Encrypt(EncryptRequest request, ServerCallContext context)
    {
        var kek = keys.Keyring.Current;
        var ciphertext = Refusing(() => KmsEnvelope.Seal(crypto, kek, request.Plaintext.Span));
        var response = new EncryptResponse { Ciphertext = UnsafeByteOperations.UnsafeWrap(ciphertext), KeyId = kek.Id };
        foreach (var (name, value) in KmsEnvelope.Annotations)
        {
            response.Annotations.Add(name, ByteString.CopyFrom(value));
        }
        return Task.FromResult(response);
    }

    public override async Task<DecryptResponse> Decrypt(DecryptRequest request, ServerCallContext context)
    {
        var kek = keys.Keyring.Find(request.KeyId);
        if (kek is null)
        {
            // A key rotated on another server moments ago: its keyring may be on disk here already (the rotation follower).
            await keys.RefreshAsync(context.CancellationToken).ConfigureAwait(false);
            kek = keys.Keyring.Find(request.KeyId)
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown key_id \"{Truncate(request.KeyId)}\": it is not among this server's retained keys"));
        }
        var annotations = request.Annotations.ToDictionary(a => a.Key, a => a.Value.ToByteArray(), StringComparer.Ordinal);
        var plaintext = Refusing(() => KmsEnvelope.Open(crypto, kek, request.Ciphertext.Span, annotations));
        return new DecryptResponse { Plaintext = UnsafeByteOperations.UnsafeWrap(plaintext) };
    }

    /// <summary>A round trip under the current key: proves the key and the crypto provider work, not just that the socket answers.</summary>
    private string Probe(KeyEncryptionKey kek)
    {
        try
        {
            var probe = crypto.RandomBytes(32);
            var opened = KmsEnvelope.Open(crypto, kek, KmsEnvelope.Seal(crypto, kek, probe), KmsEnvelope.Annotations);
            return CryptoService.FixedTimeEquals(probe, opened) ? Healthy : "the current key-encryption key failed its round-trip check";
        }
        catch (Exception e) when (e is KmsRequestException or System.Security.Cryptography.CryptographicException or CryptoPolicyException)
        {
            return "the current key-encryption key failed its round-trip check: " + e.Message;
        }
    }

    private static byte[] Refusing(Func<byte[]> operation)
    {
        try
        {
            return operation();
        }
        catch (KmsRequestException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
