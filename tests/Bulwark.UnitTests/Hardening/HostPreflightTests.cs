using Bulwark.Config;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests.Hardening;

public sealed class HostPreflightTests : IDisposable
{
    private readonly TempDirectory _root = new("bulwark-host");
    private readonly SysctlProfile _profile = SysctlProfile.Load(EmbeddedData.BuiltIn);

    public void Dispose() => _root.Dispose();

    /// <summary>A prepared host root: /proc/sys values and account files as given.</summary>
    internal static void PrepareHost(TempDirectory root, IReadOnlyDictionary<string, string> sysctls, bool etcdUser, bool etcdGroup)
    {
        foreach (var (name, value) in sysctls)
        {
            root.Write("proc/sys/" + name.Replace('.', '/'), value + "\n");
        }
        root.Write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n" + (etcdUser ? "etcd:x:999:999:etcd user:/nonexistent:/usr/sbin/nologin\n" : ""));
        root.Write("etc/group", "root:x:0:\n" + (etcdGroup ? "etcd:x:999:\n" : ""));
        // A CNI-ready host (src/Cni host prerequisites): iptables installed, forwarding on, a current kernel.
        root.Write("usr/sbin/iptables", "");
        root.Write("proc/sys/net/ipv4/ip_forward", "1\n");
        root.Write("proc/sys/kernel/osrelease", "6.1.0-27-amd64\n");
    }

    internal static readonly Dictionary<string, string> Hardened = new()
    {
        ["vm.overcommit_memory"] = "1",
        ["vm.panic_on_oom"] = "0",
        ["kernel.panic"] = "10",
        ["kernel.panic_on_oops"] = "1",
    };

    internal static readonly Dictionary<string, string> DebianDefaults = new()
    {
        ["vm.overcommit_memory"] = "0",
        ["vm.panic_on_oom"] = "0",
        ["kernel.panic"] = "0",
        ["kernel.panic_on_oops"] = "0",
    };

    [Fact]
    public void Sysctl_profile_names_a_control_for_every_parameter()
    {
        Assert.Equal(["vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops"], _profile.Parameters.Select(p => p.Name));
        Assert.All(_profile.Parameters, p => Assert.Contains("CIS-4.2.6", p.Controls));
    }

    [Fact]
    public void Unhardened_host_lists_every_violation_with_current_expected_and_fix()
    {
        PrepareHost(_root, DebianDefaults, etcdUser: false, etcdGroup: false);
        var report = new HostPreflight(new HostRoot(_root.Path), _profile).Run("cis-1.23", ConfigRole.Server);

        Assert.False(report.Passed);
        var violations = report.Violations.ToDictionary(v => v.Subject);
        Assert.Equal(["vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops", "etcd user", "etcd group"], violations.Keys);
        Assert.Equal("0", violations["kernel.panic"].Current);
        Assert.Equal("10", violations["kernel.panic"].Expected);
        Assert.Contains("sysctl -w kernel.panic=10", violations["kernel.panic"].Fix, StringComparison.Ordinal);
        Assert.Contains("useradd", violations["etcd user"].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Hardened_host_passes()
    {
        PrepareHost(_root, Hardened, etcdUser: true, etcdGroup: true);
        Assert.True(new HostPreflight(new HostRoot(_root.Path), _profile).Run("cis", ConfigRole.Server).Passed);
    }

    [Fact]
    public void Agents_do_not_need_the_etcd_account_and_the_etcd_profile_checks_only_it()
    {
        PrepareHost(_root, DebianDefaults, etcdUser: false, etcdGroup: false);
        var preflight = new HostPreflight(new HostRoot(_root.Path), _profile);
        Assert.DoesNotContain(preflight.Run("cis", ConfigRole.Agent).Findings, f => f.Subject.StartsWith("etcd", StringComparison.Ordinal));
        Assert.Equal(["etcd user", "etcd group"], preflight.Run("etcd", ConfigRole.Server).Findings.Select(f => f.Subject));
        Assert.Empty(preflight.Run("", ConfigRole.Server).Findings);
    }

    [Fact]
    public void Missing_kernel_parameter_is_a_violation_not_a_crash()
    {
        PrepareHost(_root, new Dictionary<string, string> { ["vm.overcommit_memory"] = "1" }, etcdUser: true, etcdGroup: true);
        var report = new HostPreflight(new HostRoot(_root.Path), _profile).Run("cis", ConfigRole.Server);
        Assert.Equal("(not present in this kernel)", report.Findings.Single(f => f.Subject == "kernel.panic").Current);
    }

    [Fact]
    public void A_setting_without_its_control_is_refused_in_the_data()
    {
        var error = Assert.Throws<FormatException>(() => SysctlProfile.Parse("vm.overcommit_memory = 1\n"));
        Assert.Contains("every hardened setting names its control", error.Message, StringComparison.Ordinal);
    }
}
