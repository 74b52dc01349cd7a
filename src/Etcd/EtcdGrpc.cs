using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Bulwark.Etcd;

public sealed record HashKvResult(uint Hash, long CompactRevision, long Revision, ulong MemberId);

/// <summary>A verified snapshot stream: its length and the SHA-256 of all its bytes (trailer included), i.e. of the file etcdctl would write.</summary>
public sealed record SnapshotStreamResult(long Length, string Sha256);

/// <summary>
/// The two etcd calls Bulwark makes over native gRPC instead of the JSON gateway: the snapshot stream (the gateway's
/// base64 lines are 2–4× slower) and HashKV (unreachable through the 3.4 gateway). gRPC over HttpClient HTTP/2 with
/// hand framing (1-byte flag, 4-byte big-endian length) and hand-parsed protobuf; no gRPC packages are needed.
/// </summary>
internal sealed class EtcdGrpc(HttpClient http, Uri endpoint)
{
    private static readonly byte[] EmptyMessageFrame = [0, 0, 0, 0, 0];

    public async Task<SnapshotStreamResult> SnapshotAsync(Stream destination, CancellationToken cancellationToken)
    {
        using var response = await CallAsync("/etcdserverpb.Maintenance/Snapshot", EmptyMessageFrame, timeout: null, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var integrity = new SnapshotIntegrity();
        long total = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (await ReadFrameAsync(body, buffer, cancellationToken).ConfigureAwait(false) is { } frame)
            {
                buffer = frame.Buffer;
                var blob = SnapshotResponseBlob(buffer.AsSpan(0, frame.Length));
                integrity.Append(buffer.AsSpan(blob.Offset, blob.Length));
                await destination.WriteAsync(buffer.AsMemory(blob.Offset, blob.Length), cancellationToken).ConfigureAwait(false);
                total += blob.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        ThrowIfGrpcError(response);
        return new SnapshotStreamResult(total, integrity.Verify(endpoint.ToString()));
    }

    public async Task<HashKvResult> HashKvAsync(long revision, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var message = new List<byte>();
        if (revision != 0)
        {
            message.Add(0x08);
            WriteVarint(message, (ulong)revision);
        }
        var frame = new byte[5 + message.Count];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Count);
        message.CopyTo(frame, 5);
        using var local = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        local.CancelAfter(timeout + TimeSpan.FromSeconds(2));
        using var response = await CallAsync("/etcdserverpb.Maintenance/HashKV", frame, timeout, local.Token).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(local.Token).ConfigureAwait(false);
        var buffer = new byte[256];
        var read = await ReadFrameAsync(body, buffer, local.Token).ConfigureAwait(false);
        while (await ReadFrameAsync(body, buffer, local.Token).ConfigureAwait(false) is not null)
        {
            // Drain to the trailers.
        }
        ThrowIfGrpcError(response);
        if (read is not { } f)
        {
            throw new EtcdException(GrpcCodes.Internal, "HashKV returned no message", (int)response.StatusCode, endpoint.ToString());
        }
        return ParseHashKv(f.Buffer.AsSpan(0, f.Length));
    }

    private async Task<HttpResponseMessage> CallAsync(string path, byte[] frame, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            request.Headers.TryAddWithoutValidation("grpc-timeout", EtcdClient.GrpcTimeout(t));
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            request.Dispose();
            throw new EtcdException($"cannot connect: {e.InnerException?.Message ?? e.Message}", e, endpoint.ToString());
        }
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new EtcdException(GrpcCodes.Unavailable, $"gRPC call {path} answered HTTP {(int)response.StatusCode}", (int)response.StatusCode, endpoint.ToString());
        }
        // A "trailers-only" reply carries grpc-status in the headers.
        ThrowIfStatus(response.Headers, response);
        return response;
    }

    private void ThrowIfGrpcError(HttpResponseMessage response) => ThrowIfStatus(response.TrailingHeaders, response);

    private void ThrowIfStatus(HttpHeaders headers, HttpResponseMessage response)
    {
        if (headers.TryGetValues("grpc-status", out var values) && int.TryParse(values.First(), out var status) && status != 0)
        {
            var message = headers.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : "gRPC error";
            throw new EtcdException(status, message, (int)response.StatusCode, endpoint.ToString());
        }
    }

    private readonly record struct Frame(byte[] Buffer, int Length);

    /// <summary>Reads one length-prefixed gRPC message; grows (re-rents) the buffer when needed. Null at the end of the stream.</summary>
    private static async Task<Frame?> ReadFrameAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        var got = await body.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }
        if (got < 5)
        {
            throw new IOException("gRPC stream ended inside a frame header");
        }
        if (header[0] != 0)
        {
            throw new IOException("compressed gRPC frames are not supported (none were requested)");
        }
        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > buffer.Length)
        {
            // The smaller buffer is left to the GC: returning it here could return it twice if the read below throws.
            buffer = ArrayPool<byte>.Shared.Rent(length);
        }
        await body.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        return new Frame(buffer, length);
    }

    /// <summary>SnapshotResponse: 1 header (message), 2 remaining_bytes (varint), 3 blob (bytes). Returns where blob sits.</summary>
    internal static (int Offset, int Length) SnapshotResponseBlob(ReadOnlySpan<byte> message)
    {
        var position = 0;
        (int, int) blob = (0, 0);
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            if (wire == 2)
            {
                var length = (int)ReadVarint(message, ref position);
                if (field == 3)
                {
                    blob = (position, length);
                }
                position += length;
            }
            else if (wire == 0)
            {
                ReadVarint(message, ref position);
            }
            else
            {
                throw new IOException($"unexpected protobuf wire type {wire} in SnapshotResponse");
            }
        }
        return blob;
    }

    private static HashKvResult ParseHashKv(ReadOnlySpan<byte> message)
    {
        uint hash = 0;
        long compact = 0, revision = 0;
        ulong member = 0;
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var field = (int)(tag >> 3);
            if ((tag & 7) == 2)
            {
                var length = (int)ReadVarint(message, ref position);
                if (field == 1)
                {
                    (member, revision) = ParseHeader(message.Slice(position, length));
                }
                position += length;
            }
            else
            {
                var value = ReadVarint(message, ref position);
                if (field == 2)
                {
                    hash = (uint)value;
                }
                else if (field == 3)
                {
                    compact = (long)value;
                }
            }
        }
        return new HashKvResult(hash, compact, revision, member);
    }

    /// <summary>ResponseHeader: 1 cluster_id, 2 member_id, 3 revision, 4 raft_term (all varints).</summary>
    private static (ulong Member, long Revision) ParseHeader(ReadOnlySpan<byte> message)
    {
        ulong member = 0;
        long revision = 0;
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var value = ReadVarint(message, ref position);
            switch (tag >> 3)
            {
                case 2: member = value; break;
                case 3: revision = (long)value; break;
            }
        }
        return (member, revision);
    }

    internal static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new IOException("truncated protobuf varint");
            }
            var b = data[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw new IOException("protobuf varint longer than 10 bytes");
    }

    private static void WriteVarint(List<byte> output, ulong value)
    {
        while (value >= 0x80)
        {
            output.Add((byte)(value | 0x80));
            value >>= 7;
        }
        output.Add((byte)value);
    }
}

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
        return problem is null ? file : throw new EtcdException(GrpcCodes.DataLoss, $"snapshot stream failed its integrity check: {problem}", 200, source);
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
