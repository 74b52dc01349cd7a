using Bulwark.Processes;

namespace Bulwark.Tests.ControlPlane;

public sealed class SupervisedProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-supervised");

    public void Dispose() => _dir.Dispose();

    private static async Task Until(Func<bool> condition, string what)
    {
        // A generous deadline only to avoid hanging forever; nothing here asserts on speed.
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.True(condition(), $"gave up waiting for: {what}");
    }

    [Fact]
    public async Task A_real_child_logs_to_its_file_with_mode_0600_and_stops_on_sigterm()
    {
        var log = _dir.Combine("logs", "sleeper.log");
        var spec = new ProcessSpec("/bin/sh", ["-c", $"echo hello from the child; exec {StandIns.Busybox} sleep 600"]);
        await using var process = new SupervisedProcess("sleeper", spec, log);
        process.Start();
        var pid = process.ProcessId!.Value;
        await Until(() => File.Exists(log) && File.ReadAllText(log).Contains("hello from the child", StringComparison.Ordinal), "the child's output in the log");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        await process.StopAsync();
        Assert.False(Signals.IsAlive(pid));
        Assert.Equal(143, process.LastExitCode); // 128 + SIGTERM: it ended by the TERM signal, not by SIGKILL (137)
    }

    [Fact]
    public async Task A_child_that_ignores_sigterm_is_killed_after_the_grace_period()
    {
        var ready = _dir.Combine("trap-installed");
        var spec = new ProcessSpec("/bin/sh", ["-c", $"trap '' TERM; touch {ready}; exec {StandIns.Busybox} sleep 600"]);
        await using var process = new SupervisedProcess("stubborn", spec, _dir.Combine("stubborn.log"), new SupervisionOptions { StopGrace = TimeSpan.FromMilliseconds(300) });
        process.Start();
        var pid = process.ProcessId!.Value;
        await Until(() => File.Exists(ready), "the shell to ignore SIGTERM");
        await process.StopAsync();
        Assert.False(Signals.IsAlive(pid));
        Assert.Equal(137, process.LastExitCode); // 128 + SIGKILL
    }

    [Fact]
    public async Task A_child_that_dies_is_restarted_and_the_exit_is_logged()
    {
        var counter = _dir.Combine("runs");
        var spec = new ProcessSpec("/bin/sh", ["-c", $"echo run >> {counter}; exit 3"]);
        await using var process = new SupervisedProcess("crasher", spec, _dir.Combine("crasher.log"),
            new SupervisionOptions { RestartDelay = TimeSpan.FromMilliseconds(20), MaxRestartDelay = TimeSpan.FromMilliseconds(40) });
        process.Start();
        await Until(() => process.Restarts >= 2, "two restarts");
        await process.StopAsync();
        Assert.True(File.ReadAllLines(counter).Length >= 3);
        // The stop may catch a third run alive (then it ends by our SIGTERM, 143): the two crashes are in the log either way.
        Assert.Contains(process.LastExitCode, new int?[] { 3, 143 });
        Assert.True(process.LogTail().Split("bulwark: crasher exited with code 3").Length - 1 >= 2, process.LogTail());
    }

    [Fact]
    public async Task A_child_that_exits_before_it_is_ready_fails_the_start_with_its_log_and_is_not_restarted()
    {
        var spec = new ProcessSpec("/bin/sh", ["-c", "echo cannot bind: address already in use; exit 4"]);
        await using var process = new SupervisedProcess("early", spec, _dir.Combine("early.log"), new SupervisionOptions { RestartDelay = TimeSpan.FromMilliseconds(20) });
        var readiness = new Readiness("never", _ => Task.FromResult(false), TimeSpan.FromMinutes(1));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => process.StartAsync(readiness, m => new InvalidDataException(m), TestContext.Current.CancellationToken));

        Assert.StartsWith("early exited with code 4 while starting.", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("cannot bind: address already in use", error.Message, StringComparison.Ordinal);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(0, process.Restarts);
        Assert.Null(process.ProcessId);
    }

    [Fact]
    public async Task A_child_that_stays_unready_is_stopped_and_the_readiness_check_is_named()
    {
        var spec = new ProcessSpec("/bin/sh", ["-c", $"exec {StandIns.Busybox} sleep 600"]);
        await using var process = new SupervisedProcess("slow", spec, _dir.Combine("slow.log"));
        var readiness = new Readiness("port 1 answering", _ => Task.FromResult(false), TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => process.StartAsync(readiness, m => new InvalidDataException(m), TestContext.Current.CancellationToken));

        Assert.StartsWith("slow did not become ready (port 1 answering) within 0.3 s.", error.Message, StringComparison.Ordinal);
        Assert.Null(process.ProcessId);
        Assert.Equal(143, process.LastExitCode);
    }

    [Fact]
    public async Task A_ready_child_is_restarted_with_a_new_pid_file_until_it_prints_a_final_reason()
    {
        var runs = _dir.Combine("runs");
        var pidFile = _dir.Combine("final.pid");
        // The first two runs crash; the third says it must not come back, then exits.
        var spec = new ProcessSpec("/bin/sh", ["-c", $"echo run >> {runs}; [ $(wc -l < {runs}) -ge 3 ] && echo I was removed; sleep 0.3; exit 5"]);
        await using var process = new SupervisedProcess("final", spec, _dir.Combine("final.log"), new SupervisionOptions
        {
            RestartDelay = TimeSpan.FromMilliseconds(20),
            PidFile = pidFile,
            FinalExitReason = line => line == "I was removed" ? "it was removed" : null,
        });
        var pids = new HashSet<int>();
        await process.StartAsync(new Readiness("running", _ => Task.FromResult(true), TimeSpan.FromMinutes(1)), m => new InvalidDataException(m), TestContext.Current.CancellationToken);
        await Until(() =>
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out var pid))
            {
                pids.Add(pid);
            }
            return process.FinalExit is not null;
        }, "the final exit");

        Assert.Equal("it was removed", process.FinalExit);
        Assert.Equal(2, process.Restarts);
        Assert.Equal(3, File.ReadAllLines(runs).Length);
        Assert.True(pids.Count >= 2, "each run writes its own pid");
        Assert.False(File.Exists(pidFile));
        Assert.Null(process.ProcessId);
    }

    [Fact]
    public void A_missing_program_fails_at_start_with_a_clear_error()
    {
        var process = new SupervisedProcess("ghost", new ProcessSpec(_dir.Combine("no-such-binary"), []), _dir.Combine("ghost.log"));
        var error = Assert.Throws<ProgramNotFoundException>(process.Start);
        Assert.Contains("no-such-binary", error.Message);
    }
}
