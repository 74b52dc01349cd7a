using System.Diagnostics;

namespace Bulwark.Airgap;

/// <summary>
/// Progress of a long transfer: a redrawn bar on a terminal (at most ten times a second), one line per step otherwise.
/// </summary>
public sealed class TransferProgress(TextWriter output, bool terminal)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw;
    private long _done;
    private long _total;
    private string _label = "";

    public void Step(string label, long totalBytes)
    {
        if (terminal && _label.Length > 0)
        {
            output.WriteLine();
        }
        _label = label;
        _total = totalBytes;
        _done = 0;
        if (!terminal)
        {
            output.WriteLine($"{label} ({Mib(totalBytes)})");
        }
        Draw(force: true);
    }

    public void Add(long bytes)
    {
        Interlocked.Add(ref _done, bytes);
        Draw(force: false);
    }

    public void Finish()
    {
        Draw(force: true);
        if (terminal && _label.Length > 0)
        {
            output.WriteLine();
        }
        _label = "";
    }

    private void Draw(bool force)
    {
        if (!terminal)
        {
            return;
        }
        var now = _clock.ElapsedMilliseconds;
        if (!force && now - _lastDraw < 100)
        {
            return;
        }
        _lastDraw = now;
        var fraction = _total <= 0 ? 1.0 : Math.Min(1.0, (double)_done / _total);
        const int Width = 30;
        var filled = (int)(fraction * Width);
        output.Write($"\r{_label,-40} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction * 100,3:0}% {Mib(_done)}/{Mib(_total)}");
    }

    private static string Mib(long bytes) => $"{bytes / 1048576.0:0.0} MiB";
}
