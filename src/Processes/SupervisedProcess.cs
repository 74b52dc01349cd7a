using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Processes;

/// <summary>How a supervised process is restarted and stopped.</summary>
public sealed record SupervisionOptions
{
    /// <summary>Restart after an unexpected exit (with backoff doubling from <see cref="RestartDelay"/> to <see cref="MaxRestartDelay"/>).</summary>
    public bool Restart { get; init; } = true;
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// A long-running child process (etcd, kube-apiserver, …): argv array, output appended to a log file (0600), restarted
/// with backoff when it dies, stopped with SIGTERM then SIGKILL after a grace period.
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

    public SupervisedProcess(string name, ProcessSpec spec, string logFile, SupervisionOptions? options = null, ILogger? logger = null)
    {
        Name = name;
        _spec = spec;
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

    /// <summary>Starts the first run; a program that cannot be started throws here, not later.</summary>
    public void Start()
    {
        if (_monitor is not null)
        {
            throw new InvalidOperationException($"{Name} was already started");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_logFile))!);
        var stream = new FileStream(_logFile, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        _log = new StreamWriter(stream) { AutoFlush = true };
        var first = Launch();
        _monitor = Task.Run(() => MonitorAsync(first));
    }

    /// <summary>SIGTERM, wait up to the grace period, then SIGKILL the process tree. No restart afterwards.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Process? process;
        lock (_gate)
        {
            process = _current;
        }
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
        }
        if (_monitor is not null)
        {
            await _monitor.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
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

    /// <summary>The last lines of the log, for error messages when a component dies during start.</summary>
    public string LogTail(int lines = 20)
    {
        try
        {
            using var stream = new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join("\n", all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private Process Launch()
    {
        var process = new Process { StartInfo = ProcessRunner.BuildStartInfo(_spec with { OwnSession = true }, redirectInput: false) };
        process.OutputDataReceived += (_, e) => WriteLog(e.Data);
        process.ErrorDataReceived += (_, e) => WriteLog(e.Data);
        ProcessRunner.StartOrExplain(process, _spec);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_gate)
        {
            _current?.Dispose();
            _current = process;
        }
        _logger.LogInformation("started {Name} (pid {Pid})", Name, process.Id);
        return process;
    }

    private async Task MonitorAsync(Process process)
    {
        var delay = _options.RestartDelay;
        while (true)
        {
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            LastExitCode = process.ExitCode;
            if (_stopping.IsCancellationRequested)
            {
                _logger.LogInformation("{Name} stopped (exit code {Code})", Name, process.ExitCode);
                return;
            }
            WriteLog($"bulwark: {Name} exited with code {process.ExitCode}");
            if (!_options.Restart)
            {
                _logger.LogWarning("{Name} exited with code {Code}", Name, process.ExitCode);
                return;
            }
            _logger.LogWarning("{Name} exited with code {Code}; restarting in {Delay} s", Name, process.ExitCode, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRestartDelay.Ticks));
            if (_stopping.IsCancellationRequested)
            {
                return;
            }
            try
            {
                process = Launch();
                Restarts++;
            }
            catch (ProgramNotFoundException e)
            {
                _logger.LogError("{Name}: cannot restart: {Error}", Name, e.Message);
                return;
            }
        }
    }

    private void WriteLog(string? line)
    {
        if (line is null || _log is null)
        {
            return;
        }
        lock (_gate)
        {
            _log.WriteLine(line);
        }
    }
}
