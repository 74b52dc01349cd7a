using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;
using Bulwark.Diagnostics;

namespace Bulwark.Etcd;

/// <summary>How to run one etcd member: its config, binary, log and pid files, account, and timeouts.</summary>
public sealed record EtcdMemberSpec(EtcdMemberConfig Config, string Binary, string ConfigFile, string LogFile, string PidFile)
{
    /// <summary>CIS 1.1.11/1.1.12: etcd runs as the etcd account under the cis and etcd profiles.</summary>
    public RunAsUser? RunAs { get; init; }

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>At least 10 s: a leader whose peers are gone waits ~7 s trying to hand over leadership (ETCD-GATEWAY.md pitfall 12).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);
}

public enum EtcdMemberState
{
    Stopped,
    Starting,
    Running,
    Restarting,
    /// <summary>etcd shut itself down because it was removed from the cluster; it is not restarted (its data must be wiped).</summary>
    Removed,
}

/// <summary>etcd did not become healthy; the message carries the end of its log.</summary>
public sealed class EtcdStartException(string message) : BulwarkException(ErrorKind.Unavailable, message);

/// <summary>
/// Runs etcd as a supervised child: stale member from a previous run handled, config file written, health-gated start,
/// restart with exponential backoff when it dies, SIGTERM then SIGKILL on stop, output to the etcd log file.
/// </summary>
public sealed class EtcdMember : IAsyncDisposable
{
    private const int LogTailLines = 40;

    private readonly EtcdMemberSpec _spec;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Queue<string> _tail = new();
    private readonly HttpClient _health = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly CancellationTokenSource _stopping = new();
    private Process? _process;
    private FileStream? _log;
    private Task? _supervisor;
    private bool _removedSeen;

    public EtcdMember(EtcdMemberSpec spec, ILogger logger)
    {
        _spec = spec;
        _logger = logger;
    }

    public EtcdMemberState State { get; private set; } = EtcdMemberState.Stopped;

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public int Restarts { get; private set; }

    public EtcdMemberSpec Spec => _spec;

    /// <summary>Starts etcd and returns once /health reports healthy; throws <see cref="EtcdStartException"/> if it exits or stays unhealthy.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (State != EtcdMemberState.Stopped)
        {
            throw new InvalidOperationException("etcd member already started");
        }
        State = EtcdMemberState.Starting;
        await StaleMember.StopAsync(_spec.PidFile, _spec.Config.DataDir, _logger, cancellationToken).ConfigureAwait(false);
        AtomicFile.EnsureDirectory(Path.GetDirectoryName(_spec.LogFile)!, AtomicFile.PrivateDirectory);
        _log = new FileStream(_spec.LogFile, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = AtomicFile.Private,
        });
        var process = Launch();
        try
        {
            await WaitHealthyAsync(process, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopProcessAsync(process).ConfigureAwait(false);
            State = EtcdMemberState.Stopped;
            throw;
        }
        State = EtcdMemberState.Running;
        _supervisor = Task.Run(() => SuperviseAsync(process), CancellationToken.None);
    }

    /// <summary>Stops etcd: SIGTERM, then SIGKILL after the stop timeout. Safe to call more than once.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null)
        {
            await _supervisor.ConfigureAwait(false);
        }
        if (_process is { } p)
        {
            await StopProcessAsync(p).ConfigureAwait(false);
        }
        if (State != EtcdMemberState.Removed)
        {
            State = EtcdMemberState.Stopped;
        }
    }

    /// <summary>Waits until the current etcd process is healthy again (after a restart); used by tests and the server's readiness.</summary>
    public async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        while (!await IsHealthyAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _health.GetAsync(_spec.Config.HealthUrl, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize(body, EtcdHealthJsonContext.Default.HealthResponse)?.Health == "true";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public string LogTail()
    {
        lock (_gate)
        {
            return string.Join('\n', _tail);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _health.Dispose();
        _stopping.Dispose();
        if (_log is not null)
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Process Launch()
    {
        var spec = new ProcessSpec(_spec.Binary, _spec.Config.ToArgs()) { RunAs = _spec.RunAs, OwnSession = true };
        var info = ProcessRunner.BuildStartInfo(spec, redirectInput: false);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        ProcessRunner.StartOrExplain(process, spec);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        AtomicFile.WriteAllText(_spec.PidFile, process.Id.ToString(CultureInfo.InvariantCulture) + "\n", AtomicFile.Private);
        _logger.LogInformation("etcd member {Name} started (pid {Pid}); log: {Log}", _spec.Config.Name, process.Id, _spec.LogFile);
        return process;
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _tail.Enqueue(line);
            while (_tail.Count > LogTailLines)
            {
                _tail.Dequeue();
            }
            if (line.Contains("permanently removed from the cluster", StringComparison.Ordinal))
            {
                _removedSeen = true;
            }
            if (_log is { } log)
            {
                var bytes = Encoding.UTF8.GetBytes(line + "\n");
                log.Write(bytes);
                log.Flush();
            }
        }
    }

    private async Task WaitHealthyAsync(Process process, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_spec.StartTimeout);
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                    // A Ctrl-C that reached etcd before setsid moved it out of our process group: an interruption, not a failure.
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new EtcdStartException($"etcd exited with code {process.ExitCode} while starting. Last lines of {_spec.LogFile}:\n{LogTail()}");
                }
                if (await IsHealthyAsync(timeout.Token).ConfigureAwait(false))
                {
                    return;
                }
                await Task.Delay(100, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EtcdStartException($"etcd did not report healthy at {_spec.Config.HealthUrl} within {_spec.StartTimeout.TotalSeconds:0} s. Last lines of {_spec.LogFile}:\n{LogTail()}");
        }
    }

    private async Task SuperviseAsync(Process process)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            var started = Stopwatch.StartNew();
            try
            {
                await process.WaitForExitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (_stopping.IsCancellationRequested)
            {
                return;
            }
            bool removed;
            lock (_gate)
            {
                removed = _removedSeen;
            }
            if (removed)
            {
                State = EtcdMemberState.Removed;
                _logger.LogWarning("etcd member {Name} was removed from the cluster and shut itself down; not restarting. Wipe {DataDir} before it joins again.",
                    _spec.Config.Name, _spec.Config.DataDir);
                TryDeletePidFile();
                return;
            }
            // A member that ran a while earns a fresh backoff; one that keeps dying waits longer each time.
            if (started.Elapsed > TimeSpan.FromSeconds(30))
            {
                delay = TimeSpan.FromSeconds(1);
            }
            State = EtcdMemberState.Restarting;
            _logger.LogWarning("etcd exited unexpectedly with code {Code}; restarting in {Delay} s. Last line: {Line}",
                process.ExitCode, delay.TotalSeconds, LogTail().Split('\n')[^1]);
            process.Dispose();
            Process? next = null;
            while (next is null)
            {
                try
                {
                    await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _spec.MaxRestartDelay.Ticks));
                try
                {
                    next = Launch();
                }
                catch (Exception e) when (e is ProgramNotFoundException or IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    _logger.LogError("cannot restart etcd: {Error}; retrying in {Delay} s", e.Message, delay.TotalSeconds);
                }
            }
            process = next;
            Restarts++;
            State = EtcdMemberState.Running;
        }
    }

    private async Task StopProcessAsync(Process process)
    {
        if (!process.HasExited)
        {
            Signals.Send(process.Id, Signals.SigTerm);
            using var wait = new CancellationTokenSource(_spec.StopTimeout);
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("etcd did not stop within {Seconds} s of SIGTERM; sending SIGKILL", _spec.StopTimeout.TotalSeconds);
                ProcessRunner.KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            _logger.LogInformation("etcd member {Name} stopped (exit code {Code})", _spec.Config.Name, process.ExitCode);
        }
        TryDeletePidFile();
    }

    private void TryDeletePidFile()
    {
        try
        {
            File.Delete(_spec.PidFile);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A member left running by a Bulwark that died (SIGKILL, crash): found through the pid file and stopped before a new one
/// starts, so two etcds never share a data dir. A recycled pid that is not our etcd is left alone.
/// </summary>
public static class StaleMember
{
    public static async Task<bool> StopAsync(string pidFile, string dataDir, ILogger logger, CancellationToken cancellationToken)
    {
        if (!File.Exists(pidFile))
        {
            return false;
        }
        var text = (await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || !IsOurEtcd(pid, dataDir))
        {
            File.Delete(pidFile);
            return false;
        }
        logger.LogWarning("found etcd (pid {Pid}) left running by a previous bulwark run; stopping it before starting a new member", pid);
        Signals.Send(pid, Signals.SigTerm);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        if (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir))
        {
            Signals.Send(pid, Signals.SigKill);
            while (Signals.IsAlive(pid) && IsOurEtcd(pid, dataDir))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
        File.Delete(pidFile);
        return true;
    }

    /// <summary>True when the pid runs etcd on this member's data dir (read from /proc; zombies are not "ours").</summary>
    internal static bool IsOurEtcd(int pid, string dataDir)
    {
        try
        {
            var status = File.ReadAllText($"/proc/{pid}/stat");
            var state = status[(status.LastIndexOf(')') + 2)..].Split(' ')[0];
            if (state == "Z")
            {
                return false;
            }
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return args.Any(a => a.EndsWith("etcd", StringComparison.Ordinal)) && args.Contains("--data-dir=" + dataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
