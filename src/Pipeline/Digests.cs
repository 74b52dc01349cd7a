using System.Security.Cryptography;
using Bulwark.Crypto;

namespace Bulwark.Pipeline;

/// <summary>sha256 digests of files and streams in the OCI form ("sha256:&lt;hex&gt;"), through the crypto policy.</summary>
public static class Digests
{
    public const string Prefix = "sha256:";

    public static async Task<string> Sha256FileAsync(CryptoService crypto, string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return await Sha256Async(crypto, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lower-case hex sha256 of a stream (no prefix).</summary>
    public static async Task<string> Sha256Async(CryptoService crypto, Stream stream, CancellationToken cancellationToken)
    {
        crypto.Require("SHA-256");
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    public static string Sha256(CryptoService crypto, ReadOnlySpan<byte> data) => Convert.ToHexStringLower(crypto.Hash(HashAlgorithmName.SHA256, data));

    /// <summary>An incremental hasher for data that is written while hashed (blobs streamed to disk).</summary>
    public static IncrementalHash Incremental(CryptoService crypto)
    {
        crypto.Require("SHA-256");
        return IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    /// <summary>Checks "sha256:" + 64 lower-case hex digits; other algorithms are refused.</summary>
    public static string Hex(string digest, string whereForErrors)
    {
        if (!digest.StartsWith(Prefix, StringComparison.Ordinal) || digest.Length != Prefix.Length + 64
            || !digest.AsSpan(Prefix.Length).ContainsOnlyHexLower())
        {
            throw new PipelineException($"{whereForErrors}: '{digest}' is not a sha256 digest (sha256:<64 lower-case hex>)", PipelineFailure.Input);
        }
        return digest[Prefix.Length..];
    }

    private static bool ContainsOnlyHexLower(this ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }
        return true;
    }
}
