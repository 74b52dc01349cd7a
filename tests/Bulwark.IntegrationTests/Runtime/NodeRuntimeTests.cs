using System.Formats.Tar;
using Bulwark.Runtime;
using Xunit;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// The node runtime with real components: containerd 1.6.20 (its own root, state and socket per test), runc, the CNI
/// plugins in /usr/lib/cni, and images built here from busybox-static and imported through Bulwark's streaming import.
/// </summary>
public sealed class NodeRuntimeTests
{
    [Fact]
    public async Task Node_check_passes_on_a_fresh_node_with_the_pause_image_from_a_zstd_archive_and_leaves_nothing_behind()
    {
        using var node = new RuntimeTestNode();
        node.AddArchive("pause.tar.zst", node.PauseImage, ImageArchiveFormat.Oci);

        var run = await CliRunner.RunAsync("node", "check", "--config", node.ConfigFile);

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
        Assert.Contains("starting it for the check", run.Out);
        Assert.Contains("1 archive(s) imported", run.Out);
        Assert.Matches(@"ok\s+pod sandbox .*pod IP 10\.", run.Out);
        Assert.Contains("using the check's own bridge network", run.Out);
        Assert.Matches(@"ok\s+container → host", run.Out);
        Assert.Matches(@"ok\s+hostPort → pod", run.Out);
        Assert.Matches(@"ok\s+cleanup", run.Out);
        Assert.Contains("node check passed", run.Out);
        var paths = ContainerdSettings.From(node.Config()).Paths;
        // Removed afterwards: the check's conflist, the pod address, every shim of this containerd, containerd itself.
        Assert.Empty(Directory.EnumerateFiles(paths.CniConfDir));
        var ipam = Path.Combine(paths.AgentDir, "node-check-ipam", CheckNetwork.Label);
        Assert.True(!Directory.Exists(ipam) || Directory.EnumerateFiles(ipam).All(f => !char.IsDigit(Path.GetFileName(f)[0])), "a pod address is still allocated");
        Assert.Empty(ContainerdRuntime.FindShims(paths.Socket));
        Assert.False(File.Exists(paths.PidFile));
    }

    [Fact]
    public async Task Node_check_fails_at_the_pause_image_step_with_its_fix_when_the_sandbox_image_is_missing()
    {
        using var node = new RuntimeTestNode();

        var run = await CliRunner.RunAsync("node", "check", "--config", node.ConfigFile);

        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"FAIL pause image .*" + System.Text.RegularExpressions.Regex.Escape(node.PauseImage) + " is not on the node", run.Out);
        Assert.Contains("fix: put an archive holding", run.Out);
        Assert.Contains("node check FAILED at \"pause image\"", run.Out);
        Assert.DoesNotContain("pod sandbox", run.Out);
    }

    [Fact]
    public async Task Node_check_fails_at_the_plugin_step_when_the_CNI_plugin_folder_is_empty()
    {
        using var node = new RuntimeTestNode();
        var settings = ContainerdSettings.From(node.Config()) with { CniBinDir = node.Temp.Combine("empty-cni-bin") };
        Directory.CreateDirectory(settings.CniBinDir);
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: TestContext.Current.CancellationToken);
        using var cri = new CriClient(settings.Paths.Socket);

        var report = await new NodeCheck(cri, settings).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(report.Passed);
        Assert.Equal("cni plugins", report.FirstFailure!.Name);
        Assert.Contains("bridge, host-local, portmap, loopback", report.FirstFailure.Detail);
        Assert.Contains("containernetworking-plugins", report.FirstFailure.Fix);
    }

    [Fact]
    public async Task Air_gap_import_takes_tar_gz_and_zst_archives_under_normalised_names_skips_a_corrupt_one_by_name_and_caches()
    {
        using var node = new RuntimeTestNode();
        var settings = ContainerdSettings.From(node.Config());
        node.AddArchive("a-docker.tar", "busybox:docker-tar", ImageArchiveFormat.Docker);
        node.AddArchive("b-oci.tar.gz", "example.test/team/app:1.0", ImageArchiveFormat.Oci);
        node.AddArchive("c-oci.tar.zst", "busybox:oci-zst", ImageArchiveFormat.Oci);
        node.AddArchive("d-bare.tar", "latest", ImageArchiveFormat.Oci);
        var corrupt = node.AddArchive("e-corrupt.tar.zst", "example.test/broken:1", ImageArchiveFormat.Oci);
        var bytes = File.ReadAllBytes(corrupt);
        File.WriteAllBytes(corrupt, bytes[..(bytes.Length * 2 / 3)]);
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: TestContext.Current.CancellationToken);
        var importer = new ImageImporter(settings.Paths.Socket);

        var first = await importer.ImportDirectoryAsync(settings.Paths.ImagesDir, settings.Paths.ImportCacheFile, cancellationToken: TestContext.Current.CancellationToken);

        using var cri = new CriClient(settings.Paths.Socket);
        var names = await cri.ImageNamesAsync(TestContext.Current.CancellationToken);
        Assert.Contains("docker.io/library/busybox:docker-tar", names);
        Assert.Contains("example.test/team/app:1.0", names);
        Assert.Contains("docker.io/library/busybox:oci-zst", names);
        Assert.DoesNotContain(names, n => n.StartsWith("import-", StringComparison.Ordinal) || n.StartsWith("bulwark.import", StringComparison.Ordinal) || n.Contains("broken"));
        var failure = Assert.Single(first.Failed);
        Assert.Equal("e-corrupt.tar.zst", failure.Archive);
        Assert.Contains("e-corrupt.tar.zst", failure.Reason);
        Assert.Contains(first.Warnings, w => w.StartsWith("d-bare.tar", StringComparison.Ordinal));

        var second = await importer.ImportDirectoryAsync(settings.Paths.ImagesDir, settings.Paths.ImportCacheFile, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(second.Imported, i => Assert.True(i.Cached, i.Archive + " was imported again"));
        Assert.Equal(4, second.Imported.Count);
    }

    [Fact]
    public async Task A_containerd_config_with_mirrors_and_config_path_keeps_CRI_so_the_rendered_config_never_writes_mirrors()
    {
        using var node = new RuntimeTestNode();
        node.Temp.Write("etc/registries.yaml", """
            mirrors:
              docker.io:
                endpoint: ["https://mirror.example.test:5000"]
            configs:
              "mirror.example.test:5000":
                auth: {username: puller, password: s3cret-value}
            """);
        var settings = ContainerdSettings.From(node.Config());
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: TestContext.Current.CancellationToken);

        var config = File.ReadAllText(settings.Paths.ConfigFile);
        Assert.DoesNotContain("mirrors", config);
        Assert.Contains("config_path", config);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(settings.Paths.ConfigFile));
        var hosts = File.ReadAllText(Path.Combine(settings.Paths.CertsDir, "docker.io", "hosts.toml"));
        Assert.Contains("[host.\"https://mirror.example.test:5000\"]", hosts);
        Assert.Contains("server = \"https://registry-1.docker.io\"", hosts);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(settings.Paths.Socket));
        Assert.DoesNotContain("s3cret-value", File.ReadAllText(settings.Paths.LogFile));
    }
}
