using Bulwark.Cni;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests.Cni;

public sealed class CniHostPrerequisitesTests : IDisposable
{
    private readonly TempDirectory _root = new("bulwark-host");

    public void Dispose() => _root.Dispose();

    private IReadOnlyList<PreflightFinding> Run(string cni) =>
        CniHostPrerequisites.Load(new HostRoot(_root.Path), EmbeddedData.BuiltIn).Run(CniSelection.Parse([cni], out _)!);

    private void ReadyHost(string kernel = "6.1.0-27-amd64")
    {
        _root.Write("usr/sbin/iptables", "");
        _root.Write("proc/sys/net/ipv4/ip_forward", "1\n");
        _root.Write("proc/sys/kernel/osrelease", kernel + "\n");
    }

    [Fact]
    public void A_ready_host_passes_every_prerequisite()
    {
        ReadyHost();
        var findings = Run("canal");
        Assert.Equal(["iptables", "firewalld.service", "nm-cloud-setup.service", "NetworkManager", "net.ipv4.ip_forward", "kernel"], findings.Select(f => f.Subject));
        Assert.All(findings, f => Assert.True(f.Passed, $"{f.Subject}: {f.Current}"));
    }

    [Fact]
    public void A_bare_host_fails_with_each_fix()
    {
        _root.Write("proc/sys/net/ipv4/ip_forward", "0\n");
        _root.Write("proc/sys/kernel/osrelease", "4.19.0-21-amd64\n");
        _root.Write("etc/systemd/system/multi-user.target.wants/firewalld.service", "");
        _root.Write("run/systemd/units/invocation:nm-cloud-setup.service", "");
        _root.Write("run/systemd/units/invocation:NetworkManager.service", "");
        var failed = Run("cilium").Where(f => !f.Passed).ToDictionary(f => f.Subject);
        Assert.Equal(["iptables", "firewalld.service", "nm-cloud-setup.service", "NetworkManager", "net.ipv4.ip_forward", "kernel"], failed.Keys);
        Assert.Contains("apt-get install iptables", failed["iptables"].Fix);
        Assert.Equal("enabled", failed["firewalld.service"].Current);
        Assert.Contains("systemctl disable --now firewalld", failed["firewalld.service"].Fix);
        Assert.Equal("running", failed["nm-cloud-setup.service"].Current);
        Assert.Contains("unmanaged-devices=interface-name:cilium_*;interface-name:lxc*", failed["NetworkManager"].Fix);
        Assert.Contains("sysctl -w net.ipv4.ip_forward=1", failed["net.ipv4.ip_forward"].Fix);
        Assert.Equal(">= 5.4 (cilium)", failed["kernel"].Expected);
    }

    [Fact]
    public void NetworkManager_that_ignores_the_cni_interfaces_passes()
    {
        ReadyHost();
        _root.Write("run/systemd/units/invocation:NetworkManager.service", "");
        _root.Write("etc/NetworkManager/conf.d/bulwark-cni.conf", "[keyfile]\nunmanaged-devices=interface-name:cali*;interface-name:flannel*\n");
        Assert.True(Run("canal").Single(f => f.Subject == "NetworkManager").Passed);
        Assert.False(Run("calico").Single(f => f.Subject == "NetworkManager").Passed, "calico's tunl*/vxlan.calico are not listed");
    }

    [Theory]
    [InlineData("6.18.44-fc-v657", "6.18.44")]
    [InlineData("5.4.0-150-generic", "5.4.0")]
    [InlineData("6", "6.0")]
    [InlineData("weird", null)]
    public void Kernel_release_strings_parse(string release, string? version) =>
        Assert.Equal(version is null ? null : Version.Parse(version), CniHostPrerequisites.KernelVersion(release));

    [Fact]
    public void Cni_none_needs_no_kernel_or_networkmanager_check()
    {
        ReadyHost("3.10.0");
        Assert.DoesNotContain(Run("none"), f => f.Subject is "kernel" or "NetworkManager");
    }
}
