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
    /// <summary>A salted HMAC of the cluster token's secret (<see cref="TokenFingerprint"/>); empty when the server had no token. Never the token itself.</summary>
    public required string TokenHash { get; init; }

    public const string ScheduledKind = "scheduled";
    public const string OnDemandKind = "on-demand";
}

/// <summary>One snapshot in the folder: its file, and its metadata when present (a file without metadata is shown, never trusted).</summary>
/// <remarks><see cref="Path"/> is a local path, or an s3:// location for a snapshot in S3.</remarks>
public sealed record SnapshotEntry(string Name, string Path, long Size, DateTimeOffset Modified, SnapshotMetadata? Metadata)
{
    [JsonIgnore] public bool HasMetadata => Metadata is not null;

    [JsonIgnore] public bool InS3 => Path.StartsWith("s3://", StringComparison.Ordinal);

    /// <summary>file:///… or s3://bucket/key, as RKE2 lists locations.</summary>
    public string Location => InS3 ? Path : "file://" + Path;

    [JsonIgnore] public string FileName => Path[(Path.LastIndexOf('/') + 1)..];
}

/// <summary>
/// A keyed, salted fingerprint of the cluster token, stored in snapshot metadata so a restore can prove the snapshot
/// belongs to this cluster: "hmac-sha256:&lt;salt&gt;:&lt;mac&gt;", HMAC-SHA256 keyed by the token's secret over a fresh
/// 16-byte salt per snapshot (no precomputed table fits two snapshots). Only the secret part counts:
/// "K10&lt;ca-hash&gt;::server:&lt;secret&gt;" and "&lt;secret&gt;" match.
/// </summary>
public static class TokenFingerprint
{
    private const string Scheme = "hmac-sha256:";
    private static readonly byte[] Context = Encoding.UTF8.GetBytes("bulwark-snapshot-token\n");

    public static string Of(string token) => token.Length == 0 ? "" : Of(token, RandomNumberGenerator.GetBytes(16));

    private static string Of(string token, byte[] salt) =>
        Scheme + Convert.ToHexStringLower(salt) + ":" + Convert.ToHexStringLower(Mac(token, salt));

    /// <summary>True when <paramref name="stored"/> was made from this token (constant-time comparison of the MACs).</summary>
    public static bool Matches(string stored, string token)
    {
        var parts = stored.Split(':');
        if (token.Length == 0 || parts.Length != 3 || parts[0] + ":" != Scheme || parts[1].Length != 32 || parts[2].Length != 64)
        {
            return false;
        }
        try
        {
            return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(parts[2]), Mac(token, Convert.FromHexString(parts[1])));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] Mac(string token, byte[] salt) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(SecretOf(token)), (byte[])[.. Context, .. salt]);

    private static string SecretOf(string token)
    {
        var separator = token.IndexOf("::", StringComparison.Ordinal);
        if (token.StartsWith("K10", StringComparison.Ordinal) && separator > 0)
        {
            var credentials = token[(separator + 2)..];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 ? credentials[(colon + 1)..] : credentials;
        }
        return token;
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SnapshotMetadata))]
[JsonSerializable(typeof(SnapshotEntry[]))]
public sealed partial class SnapshotJsonContext : JsonSerializerContext;
