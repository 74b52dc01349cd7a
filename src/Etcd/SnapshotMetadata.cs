using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Bulwark.Etcd;

/// <summary>What Bulwark records beside each snapshot (<c>&lt;file&gt;.metadata.json</c>).</summary>
public sealed record SnapshotMetadata
{
    public required string Name { get; init; }
    public required string File { get; init; }
    /// <summary>"scheduled" (pruned by etcd-snapshot-retention) or "on-demand" (never pruned by the schedule).</summary>
    public required string Kind { get; init; }
    /// <summary>Bytes of the file on disk (compressed size when compressed).</summary>
    public required long Size { get; init; }
    /// <summary>SHA-256 of the file on disk, hex.</summary>
    public required string Sha256 { get; init; }
    public required bool Compressed { get; init; }
    /// <summary>Size of the etcd database inside (without the 32-byte trailer).</summary>
    public required long DbSize { get; init; }
    /// <summary>The store revision etcd reported just before the stream began; the snapshot holds at least this revision.</summary>
    public required long Revision { get; init; }
    /// <summary>etcd cluster id, 16 hex digits (as etcdctl prints it).</summary>
    public required string ClusterId { get; init; }
    public required string MemberId { get; init; }
    public required string Node { get; init; }
    public required string EtcdVersion { get; init; }
    public required string BulwarkVersion { get; init; }
    public required DateTimeOffset Created { get; init; }
    /// <summary>"sha256:…" of the cluster token's secret; empty when the server had no token. Never the token itself.</summary>
    public required string TokenHash { get; init; }

    public const string ScheduledKind = "scheduled";
    public const string OnDemandKind = "on-demand";
}

/// <summary>One snapshot in the folder: its file, and its metadata when present (a file without metadata is shown, never trusted).</summary>
public sealed record SnapshotEntry(string Name, string Path, long Size, DateTimeOffset Modified, SnapshotMetadata? Metadata)
{
    [JsonIgnore] public bool HasMetadata => Metadata is not null;
}

/// <summary>
/// A one-way fingerprint of the cluster token, stored in snapshot metadata so restoring under another token is caught
/// with a clear message. Only the secret part counts: "K10&lt;ca-hash&gt;::server:&lt;secret&gt;" and "&lt;secret&gt;" match.
/// </summary>
public static class TokenFingerprint
{
    public static string Of(string token)
    {
        if (token.Length == 0)
        {
            return "";
        }
        var secret = token;
        var separator = token.IndexOf("::", StringComparison.Ordinal);
        if (token.StartsWith("K10", StringComparison.Ordinal) && separator > 0)
        {
            var credentials = token[(separator + 2)..];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            secret = colon >= 0 ? credentials[(colon + 1)..] : credentials;
        }
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("bulwark-snapshot-token\n" + secret)));
    }

    /// <summary>Constant-time comparison of two fingerprints.</summary>
    public static bool Matches(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(actual));
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SnapshotMetadata))]
[JsonSerializable(typeof(SnapshotEntry[]))]
public sealed partial class SnapshotJsonContext : JsonSerializerContext;
