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
    public void A_missing_program_fails_at_start_with_a_clear_error()
    {
        var process = new SupervisedProcess("ghost", new ProcessSpec(_dir.Combine("no-such-binary"), []), _dir.Combine("ghost.log"));
        var error = Assert.Throws<ProgramNotFoundException>(process.Start);
        Assert.Contains("no-such-binary", error.Message);
    }
}
