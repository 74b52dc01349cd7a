using System.Security.Cryptography;
using Bulwark.Crypto;

namespace Bulwark.Tests.Crypto;

public sealed class CryptoPolicyTests
{
    private static readonly CryptoService On = CryptoService.For(FipsMode.On);
    private static readonly CryptoService Strict = CryptoService.For(FipsMode.Strict);
    private static readonly CryptoService Off = CryptoService.For(FipsMode.Off);

    public static TheoryData<string, string> NonApprovedRequests => new()
    {
        { "MD5", "hash MD5" },
        { "SHA-1", "hash SHA-1" },
        { "HMAC-SHA-1", "hmac SHA-1" },
        { "HMAC-MD5", "hmac MD5" },
        { "RSA-1024", "rsa 1024" },
        { "ECDSA P-521", "ecdsa P-521" },
        { "ChaCha20-Poly1305", "aead ChaCha20-Poly1305" },
        { "PBKDF2-HMAC-SHA-1", "pbkdf2 SHA-1" },
        { "SHA-1", "signature P-256 with SHA-1" },
        { "3DES", "require 3DES" },
    };

    private static void Request(CryptoService crypto, string what)
    {
        switch (what)
        {
            case "hash MD5": crypto.Hash(HashAlgorithmName.MD5, [1, 2, 3]); break;
            case "hash SHA-1": crypto.Hash(HashAlgorithmName.SHA1, [1, 2, 3]); break;
            case "hmac SHA-1": crypto.Hmac(HashAlgorithmName.SHA1, [9], [1]); break;
            case "hmac MD5": crypto.Hmac(HashAlgorithmName.MD5, [9], [1]); break;
            case "rsa 1024": crypto.CreateRsa(1024).Dispose(); break;
            case "ecdsa P-521": crypto.CreateEcdsa("P-521").Dispose(); break;
            case "aead ChaCha20-Poly1305": crypto.CreateAead("ChaCha20-Poly1305", new byte[32]).Dispose(); break;
            case "pbkdf2 SHA-1": crypto.Pbkdf2("pw"u8, new byte[16], 1000, HashAlgorithmName.SHA1, 32); break;
            case "signature P-256 with SHA-1":
                using (var key = On.CreateEcdsa("P-256"))
                {
                    crypto.RequireSignature(key, HashAlgorithmName.SHA1);
                }
                break;
            case "require 3DES": crypto.Require("3DES"); break;
            default: throw new ArgumentOutOfRangeException(nameof(what), what);
        }
    }

    [Theory]
    [MemberData(nameof(NonApprovedRequests))]
    public void A_non_approved_algorithm_is_refused_in_on_mode_naming_the_algorithm_and_the_rule(string algorithm, string request)
    {
        var e = Assert.Throws<CryptoPolicyException>(() => Request(On, request));
        Assert.Equal(algorithm, e.Decision.Algorithm);
        Assert.StartsWith($"{algorithm} is not an approved algorithm under fips-mode on: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(AlgorithmPolicy.BuiltIn.Evaluate(algorithm.StartsWith("RSA-", StringComparison.Ordinal) ? "RSA" : algorithm).Rule, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NonApprovedRequests))]
    public void Strict_mode_refuses_the_same_algorithms(string algorithm, string request)
    {
        var e = Assert.Throws<CryptoPolicyException>(() => Request(Strict, request));
        Assert.Equal(algorithm, e.Decision.Algorithm);
        Assert.Contains("fips-mode strict", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NonApprovedRequests))]
    public void Off_mode_allows_them_so_the_refusal_comes_from_the_policy(string algorithm, string request)
    {
        _ = algorithm;
        Request(Off, request);
    }

    [Fact]
    public void Approved_algorithms_work_in_on_mode()
    {
        Assert.Equal(32, On.Hash(HashAlgorithmName.SHA256, "x"u8).Length);
        Assert.Equal(48, On.Hash(HashAlgorithmName.SHA384, "x"u8).Length);
        Assert.Equal(64, On.Hash(HashAlgorithmName.SHA512, "x"u8).Length);
        Assert.Equal(48, On.Hmac(HashAlgorithmName.SHA384, [1], "x"u8).Length);
        using (var p256 = On.CreateEcdsa("P-256"))
        using (var p384 = On.CreateEcdsa("P-384"))
        using (var rsa = On.CreateRsa(2048))
        {
            Assert.Equal(256, p256.KeySize);
            Assert.Equal(384, p384.KeySize);
            On.RequireSignature(rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        }
        using (var aes = On.CreateAesCbc(new byte[32]))
        {
            Assert.Equal(CipherMode.CBC, aes.Mode);
        }
        Assert.Equal(42, On.Hkdf(HashAlgorithmName.SHA256, new byte[22], 42, default, default).Length);
        Assert.Equal(16, On.RandomBytes(16).Length);
    }

    [Fact]
    public void A_weak_key_from_disk_is_refused_when_imported()
    {
        using var weak = RSA.Create(1024);
        var pem = weak.ExportPkcs8PrivateKeyPem();
        var e = Assert.Throws<CryptoPolicyException>(() => On.ImportPrivateKeyPem(pem, "user.key"));
        Assert.Equal("RSA-1024", e.Decision.Algorithm);
        using var accepted = Off.ImportPrivateKeyPem(pem, "user.key");
        Assert.Equal(1024, accepted.KeySize);
    }

    [Fact]
    public void Traditional_ec_and_rsa_pem_keys_of_custom_cas_are_read()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(3072);
        using var ecRead = On.ImportPrivateKeyPem(ec.ExportECPrivateKeyPem(), "ca.key");
        using var rsaRead = On.ImportPrivateKeyPem(rsa.ExportRSAPrivateKeyPem(), "ca.key");
        Assert.Equal("ECDSA P-384", CryptoService.DescribeKey(ecRead));
        Assert.Equal(3072, rsaRead.KeySize);
        var encrypted = ec.ExportEncryptedPkcs8PrivateKeyPem("pw", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000));
        var e = Assert.Throws<CryptographicException>(() => On.ImportPrivateKeyPem(encrypted, "ca.key"));
        Assert.Contains("encrypted", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("P-256", null)]
    [InlineData("P-384", null)]
    [InlineData("P-521", "ECDSA P-521")]
    [InlineData("secp256k1", "ECDSA secp256k1")]
    [InlineData("RSA-2048", null)]
    [InlineData("RSA-3072", null)]
    [InlineData("RSA-1024", "RSA-1024")]
    [InlineData("RSA-2040", "RSA-2040")]
    public void A_public_key_is_judged_by_its_subject_public_key_info_as_the_key_itself_would_be(string key, string? refusedAs)
    {
        using AsymmetricAlgorithm algorithm = key.StartsWith("RSA-", StringComparison.Ordinal)
            ? RSA.Create(int.Parse(key[4..], System.Globalization.CultureInfo.InvariantCulture))
            : ECDsa.Create(ECCurve.CreateFromFriendlyName(key == "secp256k1" ? key : "nist" + key.Replace("-", "", StringComparison.Ordinal)));
        var spki = System.Security.Cryptography.X509Certificates.PublicKey.CreateFromSubjectPublicKeyInfo(algorithm.ExportSubjectPublicKeyInfo(), out _);
        if (refusedAs is null)
        {
            On.RequireKey(spki);
            On.RequireKey(algorithm);
            return;
        }
        // The SubjectPublicKeyInfo path (CSRs, certificates) and the key-object path name the same algorithm.
        Assert.Equal(refusedAs, Assert.Throws<CryptoPolicyException>(() => On.RequireKey(spki)).Decision.Algorithm);
        Assert.Equal(refusedAs, Assert.Throws<CryptoPolicyException>(() => On.RequireKey(algorithm)).Decision.Algorithm);
        Off.RequireKey(spki);
    }

    [Fact]
    public void An_algorithm_missing_from_the_table_is_not_approved()
    {
        var decision = AlgorithmPolicy.BuiltIn.Evaluate("Blowfish");
        Assert.False(decision.Approved);
        Assert.Contains("policies/crypto/algorithms.yaml", decision.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_rule_in_the_table_cites_its_source()
    {
        Assert.NotEmpty(AlgorithmPolicy.BuiltIn.Rules);
        Assert.All(AlgorithmPolicy.BuiltIn.Rules, r => Assert.Matches("FIPS|NIST|SP 800|Bulwark", r.Rule));
        Assert.Equal(2048, AlgorithmPolicy.BuiltIn.Rules.Single(r => r.Name == "RSA").MinimumBits);
    }
}
