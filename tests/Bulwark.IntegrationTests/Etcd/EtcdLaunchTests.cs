using Bulwark.Etcd;
using Bulwark.Processes;

namespace Bulwark.Tests.Etcd;

/// <summary>
/// etcd as a cis-1.23 server runs it (real PKI, renderer and etcd 3.4, as the etcd account): launched with flags, each
/// once, from the same settings as its root-only config-file record, with no static pod beside it.
/// </summary>
public sealed class EtcdLaunchTests
{
    [Fact]
    public async Task Etcd_runs_as_its_account_from_flags_while_its_config_record_stays_root_only_and_no_etcd_static_pod_is_written()
    {
        await using var node = await RenderedNode.CreateAsync(startEtcd: true, cancellationToken: TestContext.Current.CancellationToken);
        var paths = new EtcdPaths(node.DataDir);
        var pid = int.Parse(File.ReadAllText(paths.PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var argv = File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0')[1..];

        // With node-ip 127.0.0.1 each listen URL appears once (etcd exits with "address already in use" otherwise).
        Assert.Equal(argv.Length, argv.Select(a => a[..a.IndexOf('=', StringComparison.Ordinal)]).Distinct().Count());
        var listen = argv.Single(a => a.StartsWith("--listen-client-urls=", StringComparison.Ordinal)).Split('=')[1].Split(',');
        Assert.Equal(listen.Distinct(), listen);
        Assert.Contains($"--data-dir={paths.MemberDir}", argv);
        Assert.Contains("--client-cert-auth=true", argv);
        Assert.DoesNotContain(argv, a => a.StartsWith("--config-file", StringComparison.Ordinal));

        // CIS 1.12's 1.1.7/1.1.8: the record is root:root 0600, which the etcd account running etcd could not read.
        var stat = await ProcessRunner.RunCheckedAsync(new ProcessSpec("stat", ["-c", "%U:%G %a", paths.ConfigFile, paths.MemberDir]), TestContext.Current.CancellationToken);
        Assert.Equal(["root:root 600", "etcd:etcd 700"], stat.StandardOutput.Trim().Split('\n'));
        Assert.False(File.Exists(node.Data("agent/pod-manifests/etcd.yaml")));
    }
}
