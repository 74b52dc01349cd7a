using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>Sealed data could not be opened: wrong token, corrupted or truncated data, or an unknown format.</summary>
public sealed class SealedDataException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Refused, message, inner);

/// <summary>
/// Seals data (the cluster's bootstrap data) with the token secret: AES-256-GCM under a key from
/// PBKDF2-HMAC-SHA-256 with ≥ 600,000 iterations and a 16-byte random salt (RKE2 uses PBKDF2-HMAC-SHA1 with 4,096).
/// The output describes itself so it can be opened by any later version:
/// <code>
/// "BWSL" | version 1 | kdf 1 (PBKDF2-HMAC-SHA-256) | cipher 1 (AES-256-GCM) | iterations (uint32 BE) | salt (16) | nonce (12) | ciphertext | tag (16)
/// </code>
/// The header is authenticated (GCM associated data), so changing the iteration count or salt fails to open.
/// </summary>
public sealed class TokenSealer(CryptoService crypto)
{
    public const int MinimumIterations = 600_000;
    public const int SaltSize = 16;
    private const byte Version = 1;
    private const byte KdfPbkdf2Sha256 = 1;
    private const byte CipherAes256Gcm = 1;
    private const int KeySize = 32;
    private static readonly byte[] Magic = "BWSL"u8.ToArray();
    private static readonly int HeaderSize = Magic.Length + 3 + 4 + SaltSize + AeadCipher.NonceSize;

    public int Iterations { get; init; } = MinimumIterations;

    public byte[] Seal(ReadOnlySpan<byte> plaintext, string secret)
    {
        if (Iterations < MinimumIterations)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), $"at least {MinimumIterations} PBKDF2 iterations are required");
        }
        var output = new byte[HeaderSize + plaintext.Length + AeadCipher.TagSize];
        var header = output.AsSpan(0, HeaderSize);
        Magic.CopyTo(header);
        header[4] = Version;
        header[5] = KdfPbkdf2Sha256;
        header[6] = CipherAes256Gcm;
        BinaryPrimitives.WriteUInt32BigEndian(header[7..], (uint)Iterations);
        var salt = header.Slice(11, SaltSize);
        var nonce = header.Slice(11 + SaltSize, AeadCipher.NonceSize);
        crypto.Fill(salt);
        crypto.Fill(nonce);
        var key = DeriveKey(secret, salt, Iterations);
        try
        {
            using var cipher = crypto.CreateAead("AES-GCM", key);
            cipher.Encrypt(nonce, plaintext, output.AsSpan(HeaderSize, plaintext.Length), output.AsSpan(HeaderSize + plaintext.Length), header);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        return output;
    }

    public byte[] Unseal(ReadOnlySpan<byte> sealedData, string secret)
    {
        if (sealedData.Length < HeaderSize + AeadCipher.TagSize || !sealedData[..4].SequenceEqual(Magic))
        {
            throw new SealedDataException("not Bulwark sealed data (missing 'BWSL' header or too short)");
        }
        var header = sealedData[..HeaderSize];
        if (header[4] != Version || header[5] != KdfPbkdf2Sha256 || header[6] != CipherAes256Gcm)
        {
            throw new SealedDataException($"unsupported sealed-data format (version {header[4]}, kdf {header[5]}, cipher {header[6]}); upgrade Bulwark");
        }
        var iterations = BinaryPrimitives.ReadUInt32BigEndian(header[7..]);
        if (iterations < MinimumIterations || iterations > 100_000_000)
        {
            throw new SealedDataException($"sealed data declares {iterations} PBKDF2 iterations; accepted: {MinimumIterations} to 100000000");
        }
        var salt = header.Slice(11, SaltSize);
        var nonce = header.Slice(11 + SaltSize, AeadCipher.NonceSize);
        var body = sealedData[HeaderSize..];
        var ciphertext = body[..^AeadCipher.TagSize];
        var tag = body[^AeadCipher.TagSize..];
        var plaintext = new byte[ciphertext.Length];
        var key = DeriveKey(secret, salt, (int)iterations);
        try
        {
            using var cipher = crypto.CreateAead("AES-GCM", key);
            cipher.Decrypt(nonce, ciphertext, tag, plaintext, header);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new SealedDataException("cannot open the sealed data: the token is wrong or the data was changed", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private byte[] DeriveKey(string secret, ReadOnlySpan<byte> salt, int iterations) =>
        crypto.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, KeySize);
}
