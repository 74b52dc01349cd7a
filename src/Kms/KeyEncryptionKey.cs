using System.Security.Cryptography;
using System.Text;
using Bulwark.Crypto;

namespace Bulwark.Kms;

/// <summary>
/// One AES-256 key-encryption key in memory. Its id is derived from the key (HMAC-SHA-256 of a fixed label), so every
/// server holding the same key names it the same way, a wrongly unsealed key is caught, and the id reveals nothing.
/// </summary>
public sealed class KeyEncryptionKey : IDisposable
{
    public const int KeySize = 32;
    private const string IdLabel = "bulwark kms key id v1";

    private readonly byte[] _key;

    private KeyEncryptionKey(byte[] key, string id)
    {
        _key = key;
        Id = id;
    }

    /// <summary>The KMS v2 key_id: "kek-" and 32 hex digits.</summary>
    public string Id { get; }

    public static KeyEncryptionKey Generate(CryptoService crypto) => FromBytes(crypto, crypto.RandomBytes(KeySize));

    /// <summary>Takes ownership of <paramref name="key"/> (zeroed on dispose).</summary>
    public static KeyEncryptionKey FromBytes(CryptoService crypto, byte[] key)
    {
        if (key.Length != KeySize)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new CryptographicException($"a key-encryption key is {KeySize} bytes (AES-256), not {key.Length}");
        }
        var id = "kek-" + Convert.ToHexStringLower(crypto.Hmac(HashAlgorithmName.SHA256, key, Encoding.ASCII.GetBytes(IdLabel)))[..32];
        return new KeyEncryptionKey(key, id);
    }

    /// <summary>An AES-256-GCM cipher under this key; one per call (AesGcm instances are not shared across threads).</summary>
    public AeadCipher CreateCipher(CryptoService crypto) => crypto.CreateAead("AES-GCM", _key);

    /// <summary>The raw key, for sealing only; the caller must not keep it.</summary>
    internal ReadOnlySpan<byte> Material => _key;

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);

    public override string ToString() => $"KeyEncryptionKey {{ Id = {Id} }}";
}
