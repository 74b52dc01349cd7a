using System.Buffers;
using System.Security.Cryptography;

namespace Bulwark.Etcd;

/// <summary>
/// Checks an etcd snapshot as it streams by: the file is the bbolt DB (a multiple of 512 bytes) followed by the
/// SHA-256 of the DB. The hash runs one step behind so the last 32 bytes are held back and compared at the end.
/// </summary>
public sealed class SnapshotIntegrity : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _tail = new byte[32];
    private int _tailLength;
    private long _total;

    public long Length => _total;

    public void Append(ReadOnlySpan<byte> data)
    {
        _total += data.Length;
        if (data.Length >= 32)
        {
            _hash.AppendData(_tail.AsSpan(0, _tailLength));
            _hash.AppendData(data[..^32]);
            data[^32..].CopyTo(_tail);
            _tailLength = 32;
            return;
        }
        var combined = new byte[_tailLength + data.Length];
        _tail.AsSpan(0, _tailLength).CopyTo(combined);
        data.CopyTo(combined.AsSpan(_tailLength));
        var spill = Math.Max(0, combined.Length - 32);
        _hash.AppendData(combined.AsSpan(0, spill));
        combined.AsSpan(spill).CopyTo(_tail);
        _tailLength = combined.Length - spill;
    }

    /// <summary>Null when the snapshot is whole, else what is wrong with it. Call once, at the end.</summary>
    public string? Problem() => Finish().Problem;

    /// <summary>Checks the snapshot and returns the SHA-256 of every byte seen (the DB and its trailer), in one pass.</summary>
    private (string? Problem, string FileSha256) Finish()
    {
        // The DB hash and the whole-content hash share one pass: clone the state before the trailer is added.
        using var db = _hash.Clone();
        var actual = db.GetHashAndReset();
        _hash.AppendData(_tail.AsSpan(0, _tailLength));
        var file = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (_total < 32 + 512 || (_total - 32) % 512 != 0)
        {
            return ($"its length ({_total} bytes) is not a database followed by a 32-byte SHA-256: the snapshot is truncated or not an etcd snapshot", file);
        }
        return (CryptographicOperations.FixedTimeEquals(actual, _tail)
            ? null
            : $"its SHA-256 trailer ({Convert.ToHexStringLower(_tail)}) does not match its content ({Convert.ToHexStringLower(actual)}): the snapshot is corrupted", file);
    }

    /// <summary>Throws if the stream was not a whole snapshot; returns the SHA-256 of all its bytes.</summary>
    internal string Verify(string source)
    {
        var (problem, file) = Finish();
        return problem is null ? file : throw new EtcdException(GrpcCodes.DataLoss, $"snapshot stream failed its integrity check: {problem}", source);
    }

    /// <summary>Checks a snapshot file (uncompressed) from disk.</summary>
    public static async Task<string?> CheckFileAsync(Stream content, CancellationToken cancellationToken)
    {
        using var integrity = new SnapshotIntegrity();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                integrity.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return integrity.Problem();
    }

    public void Dispose() => _hash.Dispose();
}
