using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Crypto;

/// <summary>
/// The one way Bulwark uses cryptography. Every hash, MAC, key, cipher and KDF is requested here by name and
/// checked against the <see cref="AlgorithmPolicy"/> unless fips-mode is off; underneath is .NET's
/// System.Security.Cryptography on the platform OpenSSL.
/// </summary>
public sealed class CryptoService(FipsMode mode, AlgorithmPolicy policy)
{
    public FipsMode Mode { get; } = mode;
    public AlgorithmPolicy Policy { get; } = policy;

    public static CryptoService For(FipsMode mode) => new(mode, AlgorithmPolicy.BuiltIn);

    public bool Enforcing => Mode != FipsMode.Off;

    /// <summary>Throws <see cref="CryptoPolicyException"/> unless the algorithm is approved (or fips-mode is off).</summary>
    public void Require(string algorithm, int? keyBits = null)
    {
        if (!Enforcing)
        {
            return;
        }
        var decision = Policy.Evaluate(algorithm, keyBits);
        if (!decision.Approved)
        {
            throw new CryptoPolicyException(decision, Mode);
        }
    }

    public bool IsAllowed(string algorithm, int? keyBits = null) => !Enforcing || Policy.Evaluate(algorithm, keyBits).Approved;

    // ---- hashes and MACs ----

    public byte[] Hash(HashAlgorithmName hash, ReadOnlySpan<byte> data)
    {
        Require(NameOf(hash));
        return hash.Name switch
        {
            "SHA256" => SHA256.HashData(data),
            "SHA384" => SHA384.HashData(data),
            "SHA512" => SHA512.HashData(data),
            "SHA1" => SHA1.HashData(data),
            "MD5" => MD5.HashData(data),
            _ => throw Unsupported(NameOf(hash)),
        };
    }

    public byte[] Hmac(HashAlgorithmName hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        Require("HMAC-" + NameOf(hash));
        return hash.Name switch
        {
            "SHA256" => HMACSHA256.HashData(key, data),
            "SHA384" => HMACSHA384.HashData(key, data),
            "SHA512" => HMACSHA512.HashData(key, data),
            "SHA1" => HMACSHA1.HashData(key, data),
            "MD5" => HMACMD5.HashData(key, data),
            _ => throw Unsupported("HMAC-" + NameOf(hash)),
        };
    }

    /// <summary>Compares secrets (tokens, MACs) in constant time.</summary>
    public static bool FixedTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => CryptographicOperations.FixedTimeEquals(left, right);

    // ---- randomness ----

    public byte[] RandomBytes(int count)
    {
        Require("CSPRNG");
        return RandomNumberGenerator.GetBytes(count);
    }

    public void Fill(Span<byte> buffer)
    {
        Require("CSPRNG");
        RandomNumberGenerator.Fill(buffer);
    }

    // ---- asymmetric keys ----

    /// <summary>
    /// A new key pair that has passed a pairwise-consistency test (FIPS 140-3 asks it of every generated key pair): it
    /// signs a message, the signature verifies with its public key, and it does not verify a changed message.
    /// </summary>
    public AsymmetricAlgorithm GenerateKey(KeyAlgorithm algorithm)
    {
        AsymmetricAlgorithm key = algorithm switch
        {
            KeyAlgorithm.EcdsaP256 => CreateEcdsa("P-256"),
            KeyAlgorithm.EcdsaP384 => CreateEcdsa("P-384"),
            _ => CreateRsa(3072),
        };
        try
        {
            var hash = SignatureHashFor(key);
            RequireSignature(key, hash, RSASignaturePadding.Pkcs1);
            switch (key)
            {
                case ECDsa ec:
                    CheckSignature(ec.SignData(PairwiseMessage, hash), s => ec.VerifyData(PairwiseMessage, s, hash), s => ec.VerifyData(ChangedMessage, s, hash));
                    break;
                case RSA rsa:
                    CheckSignature(rsa.SignData(PairwiseMessage, hash, RSASignaturePadding.Pkcs1),
                        s => rsa.VerifyData(PairwiseMessage, s, hash, RSASignaturePadding.Pkcs1), s => rsa.VerifyData(ChangedMessage, s, hash, RSASignaturePadding.Pkcs1));
                    break;
                default:
                    throw new NotSupportedException(key.GetType().Name);
            }
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static readonly byte[] PairwiseMessage = "Bulwark pairwise consistency test"u8.ToArray();
    private static readonly byte[] ChangedMessage = "Bulwark pairwise consistency tesT"u8.ToArray();

    /// <summary>A signature must verify over its message and must not over a changed one; throws otherwise.</summary>
    public static void CheckSignature(byte[] signature, Func<byte[], bool> verify, Func<byte[], bool> verifyChanged)
    {
        if (!verify(signature))
        {
            throw new CryptographicException("the signature did not verify with the key pair's own public key");
        }
        if (verifyChanged(signature))
        {
            throw new CryptographicException("a signature verified over a changed message");
        }
    }

    /// <summary>A new ECDSA key on a named curve ("P-256", "P-384"; others are refused under the policy).</summary>
    public ECDsa CreateEcdsa(string curve)
    {
        Require("ECDSA " + curve);
        var named = curve switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            "P-521" => ECCurve.NamedCurves.nistP521,
            _ => ECCurve.CreateFromFriendlyName(curve),
        };
        return ECDsa.Create(named);
    }

    public RSA CreateRsa(int bits)
    {
        Require("RSA", bits);
        return RSA.Create(bits);
    }

    /// <summary>
    /// Reads a PEM private key (PKCS#8 "PRIVATE KEY", or the traditional "EC PRIVATE KEY"/"RSA PRIVATE KEY" of
    /// user-provided CAs) and checks it against the policy. Encrypted keys are refused with a hint.
    /// </summary>
    public AsymmetricAlgorithm ImportPrivateKeyPem(string pem, string whereForErrors)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CryptographicException($"{whereForErrors}: no PEM block found; expected a PEM private key (-----BEGIN PRIVATE KEY-----)");
        }
        var label = pem[fields.Label];
        AsymmetricAlgorithm key = label switch
        {
            "EC PRIVATE KEY" => ImportInto(ECDsa.Create(), pem),
            "RSA PRIVATE KEY" => ImportInto(RSA.Create(), pem),
            "PRIVATE KEY" => TryImport(ECDsa.Create(), pem) ?? TryImport(RSA.Create(), pem)
                ?? throw new CryptographicException($"{whereForErrors}: the PKCS#8 key is neither ECDSA nor RSA"),
            "ENCRYPTED PRIVATE KEY" => throw new CryptographicException($"{whereForErrors}: the key is encrypted; decrypt it first (openssl pkey -in KEY -out KEY.plain) and keep it mode 0600"),
            _ => throw new CryptographicException($"{whereForErrors}: PEM block '{label}' is not a private key"),
        };
        try
        {
            RequireKey(key);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static T ImportInto<T>(T key, string pem) where T : AsymmetricAlgorithm
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static AsymmetricAlgorithm? TryImport(AsymmetricAlgorithm key, string pem)
    {
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            return null;
        }
    }

    /// <summary>Checks a key loaded from disk or received (user CA, CSR) against the policy.</summary>
    public void RequireKey(AsymmetricAlgorithm key) => Require(DescribeKey(key), key is RSA rsa ? rsa.KeySize : null);

    /// <summary>
    /// Checks a public key (from a CSR or a certificate) against the policy by what its SubjectPublicKeyInfo names: the
    /// named curve of an EC key, the modulus size of an RSA key. No key object is built (with OpenSSL 3.0 that import costs
    /// more than a signature); whoever uses the key imports it anyway, and a CSR's key was already proven by its self-signature.
    /// </summary>
    public void RequireKey(PublicKey key)
    {
        switch (key.Oid.Value)
        {
            case "1.2.840.10045.2.1": // id-ecPublicKey
                Require("ECDSA " + NamedCurveOf(key));
                break;
            case "1.2.840.113549.1.1.1": // rsaEncryption
                Require("RSA", RsaModulusBits(key));
                break;
            default:
                Require(key.Oid.FriendlyName ?? key.Oid.Value ?? "unknown key type");
                break;
        }
    }

    /// <summary>The curve of an EC public key: its parameters are the curve's OID (RFC 5480 §2.1.1); explicit curves are not named.</summary>
    private static string NamedCurveOf(PublicKey key)
    {
        if (key.EncodedParameters is not { } parameters)
        {
            return "unnamed curve";
        }
        try
        {
            return CurveName(new Oid(AsnDecoder.ReadObjectIdentifier(parameters.RawData, AsnEncodingRules.DER, out _)));
        }
        catch (AsnContentException)
        {
            return "explicit curve parameters";
        }
    }

    /// <summary>The modulus size of an RSA public key (RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }).</summary>
    private static int RsaModulusBits(PublicKey key)
    {
        try
        {
            var modulus = new AsnReader(key.EncodedKeyValue.RawData, AsnEncodingRules.DER).ReadSequence().ReadIntegerBytes().Span.TrimStart((byte)0);
            return modulus.IsEmpty ? 0 : ((modulus.Length - 1) * 8) + (8 - byte.LeadingZeroCount(modulus[0]));
        }
        catch (AsnContentException)
        {
            return 0;
        }
    }

    /// <summary>Checks a signature scheme (key + hash, and for RSA the padding).</summary>
    public void RequireSignature(AsymmetricAlgorithm key, HashAlgorithmName hash, RSASignaturePadding? padding = null)
    {
        RequireKey(key);
        Require(NameOf(hash));
        if (key is RSA)
        {
            Require(padding == RSASignaturePadding.Pss ? "RSA PSS" : "RSA PKCS#1 v1.5");
        }
    }

    /// <summary>The hash Bulwark signs with for a key: SHA-384 for P-384, SHA-256 otherwise.</summary>
    public static HashAlgorithmName SignatureHashFor(AsymmetricAlgorithm key) =>
        key is ECDsa { KeySize: 384 } ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;

    public static string DescribeKey(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => "ECDSA " + CurveName(ec),
        RSA => "RSA",
        _ => key.GetType().Name,
    };

    private static string CurveName(ECDsa key) => CurveName(key.ExportParameters(false).Curve.Oid);

    private static string CurveName(Oid oid) => (oid.Value, oid.FriendlyName) switch
    {
        ("1.2.840.10045.3.1.7", _) or (_, "nistP256" or "ECDSA_P256") => "P-256",
        ("1.3.132.0.34", _) or (_, "nistP384" or "ECDSA_P384") => "P-384",
        ("1.3.132.0.35", _) or (_, "nistP521" or "ECDSA_P521") => "P-521",
        ("1.3.132.0.10", _) => "secp256k1", // the policy's name; .NET's OID table says secP256k1, OpenSSL secp256k1
        (_, { } friendly) => friendly,
        ({ } value, _) => value,
        _ => "unknown curve",
    };

    // ---- symmetric ciphers and KDFs ----

    /// <summary>An authenticated cipher: "AES-GCM" (approved) or "ChaCha20-Poly1305" (only with fips-mode off).</summary>
    public AeadCipher CreateAead(string algorithm, ReadOnlySpan<byte> key)
    {
        Require(algorithm);
        return algorithm switch
        {
            "AES-GCM" => new AeadCipher(new AesGcm(key, AeadCipher.TagSize)),
            "ChaCha20-Poly1305" => new AeadCipher(new ChaCha20Poly1305(key)),
            _ => throw Unsupported(algorithm),
        };
    }

    /// <summary>AES-CBC, for Kubernetes' aescbc secrets provider only.</summary>
    public Aes CreateAesCbc(ReadOnlySpan<byte> key)
    {
        Require("AES-CBC");
        var aes = Aes.Create();
        aes.Key = key.ToArray();
        aes.Mode = CipherMode.CBC;
        return aes;
    }

    public byte[] Pbkdf2(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int iterations, HashAlgorithmName hash, int length)
    {
        Require("PBKDF2-HMAC-" + NameOf(hash));
        return Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, hash, length);
    }

    public byte[] Hkdf(HashAlgorithmName hash, ReadOnlySpan<byte> inputKey, int length, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> info)
    {
        Require("HKDF-" + NameOf(hash));
        var output = new byte[length];
        HKDF.DeriveKey(hash, inputKey, output, salt, info);
        return output;
    }

    /// <summary>Policy names of .NET hash names: SHA256 → SHA-256.</summary>
    public static string NameOf(HashAlgorithmName hash) => hash.Name switch
    {
        "SHA1" => "SHA-1",
        "SHA256" => "SHA-256",
        "SHA384" => "SHA-384",
        "SHA512" => "SHA-512",
        null => "unnamed hash",
        var other => other,
    };

    private static NotSupportedException Unsupported(string algorithm) => new($"{algorithm} is not implemented by Bulwark's crypto service");
}

/// <summary>AES-GCM or ChaCha20-Poly1305 behind one shape (12-byte nonce, 16-byte tag).</summary>
public sealed class AeadCipher : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    private readonly AesGcm? _gcm;
    private readonly ChaCha20Poly1305? _chacha;

    internal AeadCipher(AesGcm gcm) => _gcm = gcm;

    internal AeadCipher(ChaCha20Poly1305 chacha) => _chacha = chacha;

    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData = default)
    {
        if (_gcm is not null)
        {
            _gcm.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        else
        {
            _chacha!.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
    }

    /// <summary>Throws <see cref="AuthenticationTagMismatchException"/> when the data or key is wrong.</summary>
    public void Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        if (_gcm is not null)
        {
            _gcm.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }
        else
        {
            _chacha!.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }
    }

    public void Dispose()
    {
        _gcm?.Dispose();
        _chacha?.Dispose();
    }
}
