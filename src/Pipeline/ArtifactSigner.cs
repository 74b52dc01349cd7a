using System.Security.Cryptography;
using Bulwark.Crypto;

namespace Bulwark.Pipeline;

/// <summary>
/// Signs and verifies payloads (simple-signing payloads, bundle indexes) the way cosign does: ECDSA P-256 over SHA-256
/// (P-384 over SHA-384) with a DER signature, or RSA-3072 PKCS#1 v1.5 over SHA-256 — through <see cref="CryptoService"/>,
/// so only FIPS-approved keys are accepted. The signature checks with <c>openssl dgst -sha256 -verify KEY -signature SIG</c>.
/// </summary>
public sealed class ArtifactSigner(CryptoService crypto)
{
    public byte[] Sign(AsymmetricAlgorithm key, ReadOnlySpan<byte> payload)
    {
        var hash = CryptoService.SignatureHashFor(key);
        crypto.RequireSignature(key, hash, RSASignaturePadding.Pkcs1);
        return key switch
        {
            ECDsa ec => ec.SignData(payload, hash, DSASignatureFormat.Rfc3279DerSequence),
            RSA rsa => rsa.SignData(payload.ToArray(), hash, RSASignaturePadding.Pkcs1),
            _ => throw new PipelineException($"signing key: {CryptoService.DescribeKey(key)} keys cannot sign; use ECDSA P-256/P-384 or RSA-3072"),
        };
    }

    /// <summary>The first key (by index) whose signature over the payload checks, or -1.</summary>
    public int Verify(IReadOnlyList<AsymmetricAlgorithm> keys, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> signature)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var hash = CryptoService.SignatureHashFor(key);
            crypto.RequireSignature(key, hash, RSASignaturePadding.Pkcs1);
            var valid = key switch
            {
                ECDsa ec => ec.VerifyData(payload, signature, hash, DSASignatureFormat.Rfc3279DerSequence),
                RSA rsa => rsa.VerifyData(payload, signature, hash, RSASignaturePadding.Pkcs1),
                _ => false,
            };
            if (valid)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Loads the operator's private key (PEM, 0600 expected) through the crypto policy.</summary>
    public AsymmetricAlgorithm LoadPrivateKey(string path)
    {
        if (!File.Exists(path))
        {
            throw new PipelineException($"{path}: no such key file; create one with: openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out {path}");
        }
        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new PipelineException($"{path}: the private key is readable by others; chmod 600 {path}");
        }
        try
        {
            return crypto.ImportPrivateKeyPem(File.ReadAllText(path), path);
        }
        catch (CryptographicException e)
        {
            throw new PipelineException(e.Message, PipelineFailure.Input, e);
        }
        catch (CryptoPolicyException e)
        {
            throw new PipelineException($"{path}: {e.Message}", PipelineFailure.Input, e);
        }
    }

    /// <summary>Loads public keys (PEM "PUBLIC KEY"; a file may hold several) through the crypto policy.</summary>
    public IReadOnlyList<AsymmetricAlgorithm> LoadPublicKeys(IEnumerable<string> paths)
    {
        var keys = new List<AsymmetricAlgorithm>();
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new PipelineException($"{path}: no such public key file");
            }
            var text = File.ReadAllText(path);
            var found = 0;
            foreach (var block in PemBlocks(text))
            {
                AsymmetricAlgorithm key;
                try
                {
                    var spki = Convert.FromBase64String(block);
                    AsymmetricAlgorithm? ec = TryImport(ECDsa.Create(), spki);
                    key = ec ?? TryImport(RSA.Create(), spki) ?? throw new CryptographicException("neither ECDSA nor RSA");
                    crypto.RequireKey(key);
                }
                catch (Exception e) when (e is CryptographicException or FormatException or CryptoPolicyException)
                {
                    throw new PipelineException($"{path}: not a usable public key ({e.Message})", PipelineFailure.Input, e);
                }
                keys.Add(key);
                found++;
            }
            if (found == 0)
            {
                throw new PipelineException($"{path}: no -----BEGIN PUBLIC KEY----- block; export one with: openssl pkey -in KEY -pubout -out {path}");
            }
        }
        return keys;
    }

    private static AsymmetricAlgorithm? TryImport(AsymmetricAlgorithm key, byte[] spki)
    {
        try
        {
            switch (key)
            {
                case ECDsa ec:
                    ec.ImportSubjectPublicKeyInfo(spki, out _);
                    break;
                case RSA rsa:
                    rsa.ImportSubjectPublicKeyInfo(spki, out _);
                    break;
            }
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    private static IEnumerable<string> PemBlocks(string text)
    {
        var remaining = text.AsMemory();
        while (PemEncoding.TryFind(remaining.Span, out var fields))
        {
            if (remaining.Span[fields.Label].SequenceEqual("PUBLIC KEY"))
            {
                yield return remaining.Span[fields.Base64Data].ToString();
            }
            remaining = remaining[fields.Location.End..];
        }
    }
}
