using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Crypto;

namespace Bulwark.Kms;

/// <summary>
/// The ciphertext Bulwark's plugin hands kube-apiserver: version byte, a random 96-bit nonce, AES-256-GCM ciphertext and
/// tag. The associated data binds the key_id and every annotation, so a ciphertext presented with another key_id or
/// with altered, added or removed annotations is refused.
/// </summary>
public static class KmsEnvelope
{
    private const byte Version = 1;
    private const int Overhead = 1 + AeadCipher.NonceSize + AeadCipher.TagSize;

    /// <summary>The annotation naming the envelope format (keys must be fully-qualified DNS names, per the KMS v2 API).</summary>
    public const string FormatAnnotation = "format.kms.bulwark.io";
    public const string FormatValue = "aes-256-gcm/v1";

    /// <summary>kube-apiserver refuses a plugin ciphertext over 1 KiB (its encrypted DEK source limit); stay under it.</summary>
    public const int MaxCiphertext = 1024;
    public const int MaxPlaintext = MaxCiphertext - Overhead;

    public static IReadOnlyDictionary<string, byte[]> Annotations { get; } =
        new Dictionary<string, byte[]>(StringComparer.Ordinal) { [FormatAnnotation] = Encoding.ASCII.GetBytes(FormatValue) };

    public static byte[] Seal(CryptoService crypto, KeyEncryptionKey kek, ReadOnlySpan<byte> plaintext)
    {
        if (plaintext.IsEmpty || plaintext.Length > MaxPlaintext)
        {
            throw new KmsRequestException($"plaintext must be 1 to {MaxPlaintext} bytes (kube-apiserver sends a 32-byte seed), not {plaintext.Length}");
        }
        var output = new byte[Overhead + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, AeadCipher.NonceSize);
        // A fresh random nonce per message: 2^32 messages per key keep the collision risk below 2^-32 (NIST SP 800-38D 8.3).
        crypto.Fill(nonce);
        using var cipher = kek.CreateCipher(crypto);
        cipher.Encrypt(nonce, plaintext, output.AsSpan(1 + AeadCipher.NonceSize, plaintext.Length),
            output.AsSpan(output.Length - AeadCipher.TagSize), AssociatedData(kek.Id, Annotations));
        return output;
    }

    public static byte[] Open(CryptoService crypto, KeyEncryptionKey kek, ReadOnlySpan<byte> ciphertext, IReadOnlyDictionary<string, byte[]> annotations)
    {
        if (ciphertext.Length <= Overhead || ciphertext.Length > MaxCiphertext || ciphertext[0] != Version)
        {
            throw new KmsRequestException($"not a Bulwark KMS ciphertext (format {FormatValue}, {Overhead + 1} to {MaxCiphertext} bytes)");
        }
        var plaintext = new byte[ciphertext.Length - Overhead];
        using var cipher = kek.CreateCipher(crypto);
        try
        {
            cipher.Decrypt(ciphertext.Slice(1, AeadCipher.NonceSize), ciphertext.Slice(1 + AeadCipher.NonceSize, plaintext.Length),
                ciphertext[^AeadCipher.TagSize..], plaintext, AssociatedData(kek.Id, annotations));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new KmsRequestException("the ciphertext, its key_id or its annotations were altered (authentication failed)");
        }
        return plaintext;
    }

    /// <summary>Length-prefixed key_id, then each annotation sorted by key: unambiguous, whatever the bytes.</summary>
    private static byte[] AssociatedData(string keyId, IReadOnlyDictionary<string, byte[]> annotations)
    {
        using var buffer = new MemoryStream();
        Append(buffer, Encoding.ASCII.GetBytes("bulwark-kms-v1"));
        Append(buffer, Encoding.UTF8.GetBytes(keyId));
        foreach (var (key, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            Append(buffer, Encoding.UTF8.GetBytes(key));
            Append(buffer, value);
        }
        return buffer.ToArray();
    }

    private static void Append(MemoryStream buffer, ReadOnlySpan<byte> bytes)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        buffer.Write(length);
        buffer.Write(bytes);
    }
}
