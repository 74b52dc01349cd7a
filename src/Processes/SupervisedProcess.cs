using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Bulwark.FileSystem;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Processes;

/// <summary>
/// The one supervisor of long-running children (etcd, containerd, the control-plane components): argv array, output
/// appended to a log file (0600), an optional readiness gate on the first start, restarted with backoff when it dies,
/// stopped with SIGTERM then SIGKILL after a grace period.
/// </summary>
public sealed class SupervisedProcess : IAsyncDisposable
{
    private readonly ProcessSpec _spec;
    private readonly string _logFile;
    private readonly SupervisionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Process? _current;
    private Task? _monitor;
    private StreamWriter? _log;
    private bool _started;
    private volatile bool _stopRequested;
    private bool _disposed;
    private string? _finalReason;

    public SupervisedProcess(string name, ProcessSpec spec, string logFile, SupervisionOptions? options = null, ILogger? logger = null)
    {
        Name = name;
        _spec = spec with { OwnSession = true };
        _logFile = logFile;
        _options = options ?? new SupervisionOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    public string Name { get; }

    /// <summary>The pid of the running child, or null between restarts and after it stopped.</summary>
    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _current is { HasExited: false } p ? p.Id : null;
            }
        }
    }

    public bool IsRunning => ProcessId is not null;

    public int Restarts { get; private set; }

    /// <summary>Exit code of the last run that ended, if any.</summary>
    public int? LastExitCode { get; private set; }

    /// <summary>Why the child was not restarted after it ended (see <see cref="SupervisionOptions.FinalExitReason"/>), if that happened.</summary>
    public string? FinalExit { get; private set; }

    /// <summary>Starts the first run; a program that cannot be started throws here, not later.</summary>
    public void Start()
    {
        var first = LaunchFirst();
        _monitor = Task.Run(() => MonitorAsync(first));
    }

    /// <summary>
    /// Starts the first run and returns once <paramref name="readiness"/> holds; it is not restarted before then. If it exits
    /// first or stays unready past the timeout, it is stopped and <paramref name="failure"/> of a message ending with the
    /// log's last lines is thrown.
    /// </summary>
    public async Task StartAsync(Readiness readiness, Func<string, Exception> failure, CancellationToken cancellationToken)
    {
        var first = LaunchFirst();
        try
        {
            await WaitReadyAsync(first, readiness, failure, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }
        _monitor = Task.Run(() => MonitorAsync(first), CancellationToken.None);
    }

    /// <summary>SIGTERM, wait up to the grace period, then SIGKILL the process tree. No restart afterwards. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        if (_disposed)
        {
            return;
        }
        Process? process;
        lock (_gate)
        {
            _stopRequested = true;
            process = _current;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (process is { HasExited: false })
        {
            Signals.Send(process.Id, Signals.SigTerm);
            using var grace = new CancellationTokenSource(_options.StopGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("{Name} (pid {Pid}) ignored SIGTERM for {Grace} s; sending SIGKILL", Name, process.Id, _options.StopGrace.TotalSeconds);
                ProcessRunner.KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            LastExitCode = process.ExitCode;
        }
        if (_monitor is not null)
        {
            await _monitor.ConfigureAwait(false);
        }
        DeletePidFile();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        await StopAsync().ConfigureAwait(false);
        _disposed = true;
        lock (_gate)
        {
            _current?.Dispose();
            _current = null;
        }
        if (_log is not null)
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
    }

    /// <summary>The last lines of the log, for error messages when a child dies during start.</summary>
    public string LogTail(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            // The log grows across runs: the last 64 KiB hold the lines wanted.
            stream.Seek(Math.Max(0, stream.Length - 65536), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join("\n", all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private Process LaunchFirst()
    {
        if (_started)
        {
            throw new InvalidOperationException($"{Name} was already started");
        }
        _started = true;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_logFile))!, AtomicFile.PrivateDirectory);
        var stream = new FileStream(_logFile, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = AtomicFile.Private,
        });
        _log = new StreamWriter(stream) { AutoFlush = true };
        return Launch() ?? throw new InvalidOperationException($"{Name} was stopped before it started");
    }

    /// <summary>Starts one run, or returns null when a stop came first (so a stop never races a restart into an orphan).</summary>
    private Process? Launch()
    {
        var process = new Process { StartInfo = ProcessRunner.BuildStartInfo(_spec, redirectInput: false) };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        lock (_gate)
        {
            if (_stopRequested)
            {
                process.Dispose();
                return null;
            }
            _finalReason = null;
            ProcessRunner.StartOrExplain(process, _spec);
            _current?.Dispose();
            _current = process;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (_options.PidFile is { } pidFile)
        {
            AtomicFile.WriteAllText(pidFile, process.Id.ToString(CultureInfo.InvariantCulture) + "\n", AtomicFile.Private);
        }
        _logger.LogInformation("started {Name} (pid {Pid}); log: {Log}", Name, process.Id, _logFile);
        return process;
    }

    private async Task WaitReadyAsync(Process process, Readiness readiness, Func<string, Exception> failure, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(readiness.Timeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    // Drains its output into the log first, so the tail shows why it died.
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    LastExitCode = process.ExitCode;
                    // A Ctrl-C that reached the child before setsid moved it out of our process group: an interruption, not a failure.
                    cancellationToken.ThrowIfCancellationRequested();
                    throw failure($"{Name} exited with code {process.ExitCode} while starting. Last lines of {_logFile}:\n{LogTail()}");
                }
                if (await readiness.IsReady(deadline.Token).ConfigureAwait(false))
                {
                    return;
                }
                await Task.Delay(100, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw failure($"{Name} did not become ready ({readiness.What}) within {readiness.Timeout.TotalSeconds:0.#} s. Last lines of {_logFile}:\n{LogTail()}");
        }
    }

    private async Task MonitorAsync(Process process)
    {
        var delay = _options.RestartDelay;
        while (true)
        {
            var ran = Stopwatch.StartNew();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            LastExitCode = process.ExitCode;
            if (_stopRequested)
            {
                _logger.LogInformation("{Name} stopped (exit code {Code})", Name, process.ExitCode);
                return;
            }
            Record($"bulwark: {Name} exited with code {process.ExitCode}");
            if (_finalReason is { } reason || !_options.Restart)
            {
                FinalExit = _finalReason;
                _logger.LogWarning("{Name} exited with code {Code}{Reason}; not restarting", Name, process.ExitCode, _finalReason is null ? "" : ": " + _finalReason);
                DeletePidFile();
                return;
            }
            // A child that ran a while earns a fresh backoff; one that keeps dying waits longer each time.
            if (ran.Elapsed > _options.MaxRestartDelay)
            {
                delay = _options.RestartDelay;
            }
            _logger.LogWarning("{Name} exited with code {Code}; restarting in {Delay} s", Name, process.ExitCode, delay.TotalSeconds);
            Process? next = null;
            while (next is null)
            {
                try
                {
                    await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
                    next = Launch();
                    if (next is null)
                    {
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e) when (e is ProgramNotFoundException or IOException or UnauthorizedAccessException or Win32Exception)
                {
                    _logger.LogError("{Name}: cannot restart: {Error}; retrying in {Delay} s", Name, e.Message, delay.TotalSeconds);
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRestartDelay.Ticks));
            }
            process = next;
            Restarts++;
        }
    }

    private void Record(string? line)
    {
        if (line is null || _log is null)
        {
            return;
        }
        lock (_gate)
        {
            _log.WriteLine(line);
            _finalReason ??= _options.FinalExitReason?.Invoke(line);
        }
    }

    private void DeletePidFile()
    {
        if (_options.PidFile is { } pidFile)
        {
            try
            {
                File.Delete(pidFile);
            }
            catch (IOException)
            {
            }
        }
    }
}
