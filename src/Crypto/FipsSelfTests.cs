using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Crypto;

/// <summary>A known-answer test: a published vector for one algorithm. Unused inputs are empty.</summary>
public sealed record KnownAnswerTest(string Name, string Algorithm, byte[] Message, byte[] Expected)
{
    public byte[] Key { get; init; } = [];
    public byte[] Nonce { get; init; } = [];
    public byte[] AssociatedData { get; init; } = [];
    public byte[] Salt { get; init; } = [];
    public byte[] Info { get; init; } = [];
    public int Iterations { get; init; }
}

/// <summary>A pairwise-consistency test: a fresh key pair must verify its own signature and reject a changed message.</summary>
public sealed record PairwiseConsistencyTest(string Name, KeyAlgorithm Key);

/// <summary>The power-on self-tests, read from policies/crypto/self-tests.yaml.</summary>
public sealed record SelfTestSuite(IReadOnlyList<KnownAnswerTest> KnownAnswerTests, IReadOnlyList<PairwiseConsistencyTest> PairwiseTests)
{
    public const string ResourcePath = "policies/crypto/self-tests.yaml";

    public static SelfTestSuite BuiltIn { get; } = Load(EmbeddedData.BuiltIn);

    public static SelfTestSuite Load(EmbeddedData data)
    {
        var file = DataFiles.Reader(ResourcePath);
        return Parse(file, file.ParseMapping(data.ReadText(ResourcePath)));
    }

    private static SelfTestSuite Parse(YamlNodes.Reader file, YamlMappingNode root)
    {
        var kats = file.Mappings(root, "known-answer-tests").Select(item => new KnownAnswerTest(
            file.String(item, "name"), file.String(item, "algorithm"), Bytes(file, item, "message"), Hex(file, item, file.String(item, "expected")))
        {
            Key = Bytes(file, item, "key"),
            Nonce = Bytes(file, item, "nonce"),
            AssociatedData = Bytes(file, item, "aad"),
            Salt = Bytes(file, item, "salt"),
            Info = Bytes(file, item, "info"),
            Iterations = file.OptionalInt(item, "iterations") ?? 0,
        }).ToList();
        var pairwise = file.Mappings(root, "pairwise-consistency-tests").Select(item =>
            new PairwiseConsistencyTest(file.String(item, "name"), KeyAlgorithms.Parse(file.String(item, "key")))).ToList();
        return new SelfTestSuite(kats, pairwise);
    }

    private static byte[] Bytes(YamlNodes.Reader file, YamlMappingNode item, string field) =>
        file.OptionalString(item, field + "-text") is { } text ? Encoding.UTF8.GetBytes(text)
        : file.OptionalString(item, field) is { } hex ? Hex(file, item, hex)
        : [];

    private static byte[] Hex(YamlNodes.Reader file, YamlMappingNode item, string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw file.Error(item, $"\"{hex}\" is not hex");
        }
    }
}

/// <summary>One self-test's outcome.</summary>
public sealed record SelfTestResult(string Name, string Kind, bool Passed, double DurationMilliseconds, string Detail);

public sealed record SelfTestReport(IReadOnlyList<SelfTestResult> Results)
{
    public bool Passed => Results.All(r => r.Passed);
    public IEnumerable<SelfTestResult> Failures => Results.Where(r => !r.Passed);
}

/// <summary>
/// The power-on self-tests (FIPS 140-3 §7.10 style): known-answer tests with published vectors (RSA's too: its
/// signatures are deterministic) and pairwise consistency for ECDSA P-256, all through the crypto service so they
/// exercise what Bulwark uses.
/// </summary>
public static class FipsSelfTests
{
    public static SelfTestReport Run(CryptoService crypto, SelfTestSuite? suite = null)
    {
        suite ??= SelfTestSuite.BuiltIn;
        var results = new List<SelfTestResult>();
        foreach (var test in suite.KnownAnswerTests)
        {
            results.Add(Measure(test.Name, "known-answer", () => RunKnownAnswer(crypto, test)));
        }
        foreach (var test in suite.PairwiseTests)
        {
            results.Add(Measure(test.Name, "pairwise-consistency", () => RunPairwise(crypto, test)));
        }
        return new SelfTestReport(results);
    }

    private static SelfTestResult Measure(string name, string kind, Func<string?> test)
    {
        var watch = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = test();
        }
        catch (Exception e) when (e is CryptographicException or CryptoPolicyException or NotSupportedException or ArgumentException)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
        }
        watch.Stop();
        return new SelfTestResult(name, kind, failure is null, watch.Elapsed.TotalMilliseconds, failure ?? "ok");
    }

    /// <summary>Returns null when the computed value equals the vector's, otherwise what differed.</summary>
    private static string? RunKnownAnswer(CryptoService crypto, KnownAnswerTest test)
    {
        var actual = test.Algorithm switch
        {
            "SHA-256" => crypto.Hash(HashAlgorithmName.SHA256, test.Message),
            "SHA-384" => crypto.Hash(HashAlgorithmName.SHA384, test.Message),
            "SHA-512" => crypto.Hash(HashAlgorithmName.SHA512, test.Message),
            "HMAC-SHA-256" => crypto.Hmac(HashAlgorithmName.SHA256, test.Key, test.Message),
            "HMAC-SHA-384" => crypto.Hmac(HashAlgorithmName.SHA384, test.Key, test.Message),
            "AES-GCM" => AesGcmEncryptAndCheckDecrypt(crypto, test),
            "PBKDF2-HMAC-SHA-256" => crypto.Pbkdf2(test.Key, test.Salt, test.Iterations, HashAlgorithmName.SHA256, test.Expected.Length),
            "HKDF-SHA-256" => crypto.Hkdf(HashAlgorithmName.SHA256, test.Key, test.Expected.Length, test.Salt, test.Info),
            "RSA-PKCS1-SHA-256" => RsaSignAndCheckVerify(crypto, test),
            _ => throw new NotSupportedException($"no known-answer test procedure for {test.Algorithm}"),
        };
        return CryptographicOperations.FixedTimeEquals(actual, test.Expected)
            ? null
            : $"expected {Convert.ToHexStringLower(test.Expected)}, computed {Convert.ToHexStringLower(actual)}";
    }

    /// <summary>Encrypts (the answer is ciphertext||tag) and also requires that decryption restores the plaintext.</summary>
    private static byte[] AesGcmEncryptAndCheckDecrypt(CryptoService crypto, KnownAnswerTest test)
    {
        using var cipher = crypto.CreateAead("AES-GCM", test.Key);
        var output = new byte[test.Message.Length + AeadCipher.TagSize];
        cipher.Encrypt(test.Nonce, test.Message, output.AsSpan(0, test.Message.Length), output.AsSpan(test.Message.Length), test.AssociatedData);
        var roundTrip = new byte[test.Message.Length];
        cipher.Decrypt(test.Nonce, output.AsSpan(0, test.Message.Length), output.AsSpan(test.Message.Length), roundTrip, test.AssociatedData);
        if (!roundTrip.AsSpan().SequenceEqual(test.Message))
        {
            throw new CryptographicException("AES-GCM decryption did not restore the plaintext");
        }
        return output;
    }

    /// <summary>Signs with the vector's key (the answer is the signature) and also requires that it verifies and that a changed message does not.</summary>
    private static byte[] RsaSignAndCheckVerify(CryptoService crypto, KnownAnswerTest test)
    {
        using var key = crypto.ImportPrivateKeyPem(PemEncoding.WriteString("PRIVATE KEY", test.Key), test.Name);
        if (key is not RSA rsa)
        {
            throw new CryptographicException("the vector's key is not an RSA key");
        }
        var signature = rsa.SignData(test.Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var changed = (byte[])test.Message.Clone();
        changed[0] ^= 1;
        CryptoService.CheckSignature(signature, s => rsa.VerifyData(test.Message, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            s => rsa.VerifyData(changed, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        return signature;
    }

    /// <summary>Generating the key pair runs its pairwise-consistency check (<see cref="CryptoService.GenerateKey"/>).</summary>
    private static string? RunPairwise(CryptoService crypto, PairwiseConsistencyTest test)
    {
        using var key = crypto.GenerateKey(test.Key);
        return null;
    }
}
