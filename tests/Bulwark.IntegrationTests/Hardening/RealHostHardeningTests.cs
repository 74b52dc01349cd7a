using Bulwark.Cli;
using Bulwark.Processes;

namespace Bulwark.Tests.Hardening;

/// <summary>
/// Runs against this machine's real /proc/sys with the real sysctl, and the real useradd/groupadd on a
/// prepared host root. Kernel values are restored afterwards.
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class RealHostHardeningTests : IDisposable
{
    private const string DropIn = "/etc/sysctl.d/90-bulwark-cis.conf";
    private readonly SavedKernelParameters _saved = new();
    private readonly string? _savedDropIn = File.Exists(DropIn) ? File.ReadAllText(DropIn) : null;
    private readonly TempDirectory _dir = new();

    private static string Read(string parameter) => SavedKernelParameters.Read("proc/sys/" + parameter.Replace('.', '/'));

    private static Task Sysctl(string assignment) =>
        ProcessRunner.RunCheckedAsync(new ProcessSpec(ProgramLocator.Require("sysctl", "install procps"), ["-w", assignment]));

    public void Dispose()
    {
        _saved.Dispose();
        if (_savedDropIn is null)
        {
            File.Delete(DropIn);
        }
        else
        {
            File.WriteAllText(DropIn, _savedDropIn);
        }
        _dir.Dispose();
    }

    [Fact]
    public async Task Check_reads_the_real_kernel_and_apply_makes_the_real_host_pass()
    {
        await Sysctl("vm.overcommit_memory=0");
        await Sysctl("kernel.panic=0");

        var before = await CliRunner.RunAsync("hardening", "check", "--profile", "cis-1.23", "--role", "agent");
        Assert.DoesNotContain("needs the server to join", before.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, before.ExitCode);
        Assert.Contains("vm.overcommit_memory", before.Out, StringComparison.Ordinal);
        Assert.Contains("current: 0; expected: 1", before.Out, StringComparison.Ordinal);
        Assert.Contains("kernel.panic ", before.Out, StringComparison.Ordinal);

        var dryRun = await CliRunner.RunAsync("hardening", "apply", "--dry-run");
        Assert.Equal(ExitCodes.Ok, dryRun.ExitCode);
        Assert.Equal("0", Read("vm.overcommit_memory"));

        var apply = await CliRunner.RunAsync("hardening", "apply");
        Assert.Equal(ExitCodes.Ok, apply.ExitCode);
        Assert.Contains("vm.overcommit_memory", apply.Out, StringComparison.Ordinal);
        Assert.Equal("1", Read("vm.overcommit_memory"));
        Assert.Equal("10", Read("kernel.panic"));
        Assert.True(File.Exists(DropIn));

        // The installed drop-in is a valid sysctl file: the real sysctl loads it.
        var load = await ProcessRunner.RunAsync(new ProcessSpec("sysctl", ["-p", DropIn]), TestContext.Current.CancellationToken);
        Assert.True(load.Succeeded, load.StandardError);

        var after = await CliRunner.RunAsync("hardening", "check", "--profile", "cis-1.23");
        Assert.Equal(ExitCodes.Ok, after.ExitCode);

        var again = await CliRunner.RunAsync("hardening", "apply");
        Assert.Contains("0 change(s) made", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_creates_the_etcd_account_in_a_host_root_with_the_real_useradd()
    {
        _dir.Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        _dir.Write("etc/group", "root:x:0:\n");
        foreach (var parameter in SavedKernelParameters.Profile.Parameters)
        {
            _dir.Write(parameter.ProcPath, "0\n");
        }
        // The default CNI's host prerequisites, which apply does not change: IP forwarding, iptables, a kernel.
        _dir.Write("proc/sys/net/ipv4/ip_forward", "1\n");
        _dir.Write("proc/sys/kernel/osrelease", "6.1.0-28-amd64\n");
        _dir.Write("usr/sbin/iptables", "");

        var apply = await CliRunner.RunAsync("hardening", "apply", "--host-root", _dir.Path);
        Assert.Equal(ExitCodes.Ok, apply.ExitCode);
        var passwd = File.ReadAllText(_dir.Combine("etc/passwd"));
        Assert.Matches(@"(?m)^etcd:[^:]*:\d+:\d+:etcd user:/nonexistent:/usr/sbin/nologin$", passwd);
        Assert.Matches(@"(?m)^etcd:x:\d+:", File.ReadAllText(_dir.Combine("etc/group")));
        Assert.Equal("1", File.ReadAllText(_dir.Combine("proc/sys/vm/overcommit_memory")).Trim());

        var check = await CliRunner.RunAsync("hardening", "check", "--profile", "cis", "--host-root", _dir.Path);
        Assert.Equal(ExitCodes.Ok, check.ExitCode);
        var again = await CliRunner.RunAsync("hardening", "apply", "--host-root", _dir.Path);
        Assert.Contains("0 change(s) made", again.Out, StringComparison.Ordinal);
    }
}

/// <summary>Tests that change the real host's kernel parameters run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealHostCollection
{
    public const string Name = "real host";
}
