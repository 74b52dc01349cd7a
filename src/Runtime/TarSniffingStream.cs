using System.Text;

namespace Bulwark.Runtime;

/// <summary>
/// A read-through stream over an image archive's tar bytes that keeps the small metadata entries (index.json,
/// manifest.json) as they pass and hashes and counts the bytes, so one streaming pass feeds containerd and still tells
/// Bulwark the archive's image names. Only ustar/pax headers are parsed; entry data is skipped without copying.
/// </summary>
internal sealed class TarSniffingStream(Stream inner, Action<long>? progress) : Stream
{
    private const int Block = 512;
    private const int MaxCaptured = 4 * 1024 * 1024;
    private readonly byte[] _header = new byte[Block];
    private int _headerFill;
    private long _dataRemaining;
    private long _padRemaining;
    private string? _capturing;
    private MemoryStream? _captured;
    private string? _paxPath;
    private bool _inPax;
    private MemoryStream? _pax;

    public Dictionary<string, byte[]> Entries { get; } = new(StringComparer.Ordinal);
    public long Position64 { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Observe(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Observe(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Observe(ReadOnlySpan<byte> data)
    {
        Position64 += data.Length;
        progress?.Invoke(Position64);
        while (data.Length > 0)
        {
            if (_dataRemaining > 0)
            {
                var take = (int)Math.Min(_dataRemaining, data.Length);
                if (_captured is not null && _captured.Length + take <= MaxCaptured)
                {
                    _captured.Write(data[..take]);
                }
                else if (_inPax)
                {
                    _pax?.Write(data[..take]);
                }
                _dataRemaining -= take;
                data = data[take..];
                if (_dataRemaining == 0)
                {
                    EndEntry();
                }
                continue;
            }
            if (_padRemaining > 0)
            {
                var take = (int)Math.Min(_padRemaining, data.Length);
                _padRemaining -= take;
                data = data[take..];
                continue;
            }
            var need = Math.Min(Block - _headerFill, data.Length);
            data[..need].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += need;
            data = data[need..];
            if (_headerFill == Block)
            {
                _headerFill = 0;
                StartEntry();
            }
        }
    }

    private void StartEntry()
    {
        if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
        {
            return; // end-of-archive padding
        }
        var name = Text(0, 100);
        var prefix = Text(345, 155);
        if (prefix.Length > 0)
        {
            name = prefix + "/" + name;
        }
        var type = (char)_header[156];
        var size = Octal(124, 12);
        if (_paxPath is not null)
        {
            name = _paxPath;
            _paxPath = null;
        }
        _dataRemaining = size;
        _padRemaining = (Block - size % Block) % Block;
        _inPax = type is 'x';
        _pax = _inPax ? new MemoryStream() : null;
        var clean = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        if (type is '0' or '\0' && clean is "index.json" or "manifest.json" && size <= MaxCaptured)
        {
            _capturing = clean;
            _captured = new MemoryStream((int)size);
        }
        if (size == 0)
        {
            EndEntry();
        }
    }

    private void EndEntry()
    {
        if (_capturing is not null && _captured is not null)
        {
            Entries[_capturing] = _captured.ToArray();
        }
        if (_inPax && _pax is not null)
        {
            // PAX records: "<len> key=value\n"; only "path" matters here.
            foreach (var record in Encoding.UTF8.GetString(_pax.ToArray()).Split('\n'))
            {
                var space = record.IndexOf(' ');
                if (space > 0 && record[(space + 1)..].StartsWith("path=", StringComparison.Ordinal))
                {
                    _paxPath = record[(space + 6)..];
                }
            }
        }
        _capturing = null;
        _captured = null;
        _inPax = false;
        _pax = null;
    }

    private string Text(int offset, int length)
    {
        var span = _header.AsSpan(offset, length);
        var end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    private long Octal(int offset, int length)
    {
        var span = _header.AsSpan(offset, length);
        if ((span[0] & 0x80) != 0)
        {
            long big = 0; // base-256 for huge files
            for (var i = 1; i < length; i++)
            {
                big = (big << 8) | span[i];
            }
            return big;
        }
        long value = 0;
        foreach (var b in span)
        {
            if (b is >= (byte)'0' and <= (byte)'7')
            {
                value = value * 8 + (b - '0');
            }
            else if (value > 0 || b is not ((byte)' ' or 0))
            {
                break;
            }
        }
        return value;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Position64; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
