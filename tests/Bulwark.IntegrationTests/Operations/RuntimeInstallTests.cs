using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Bulwark.ControlPlane;
using Bulwark.Operations;

namespace Bulwark.Tests.Operations;

/// <summary>
/// <c>bulwark runtime install|status</c> on archives in the upstream kubernetes-server-linux-amd64.tar.gz layout, built
/// by the test from stand-in programs (shell scripts answering <c>--version</c> as the upstream binaries do; the real
/// ones are not installable here).
/// </summary>
public sealed class RuntimeInstallTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-runtime");

    public void Dispose() => _dir.Dispose();

    private string DataDir => _dir.Combine("data-dir");

    private string StandInBinaries(string version, string folder = "stand-ins", string? odd = null, string? oddVersion = null)
    {
        var dir = _dir.Combine(folder);
        Directory.CreateDirectory(dir);
        foreach (var name in RuntimeBundleInstaller.RequiredBinaries)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, $"#!/bin/sh\n# stand-in for {name}\n[ \"$1\" = --version ] && echo \"Kubernetes {(name == odd ? oddVersion : version)}\"\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            File.WriteAllText(path + ".sha512", Sha512(path) + "\n");
        }
        return dir;
    }

    private string StandInReleaseArchive(string version, bool withSha512File = true, string? omit = null)
    {
        var bins = StandInBinaries(version);
        var archive = _dir.Combine("kubernetes-server-linux-amd64.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "kubernetes/server/bin/"));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "kubernetes/server/bin/kube-apiserver.docker_tag") { DataStream = new MemoryStream("v1.32.3"u8.ToArray()) });
            foreach (var name in RuntimeBundleInstaller.RequiredBinaries.Where(n => n != omit))
            {
                tar.WriteEntry(Path.Combine(bins, name), "kubernetes/server/bin/" + name);
            }
            tar.WriteEntry(Path.Combine(bins, "kubelet"), "kubernetes/server/bin/kubectl");
        }
        if (withSha512File)
        {
            File.WriteAllText(archive + ".sha512", Sha512(archive) + "  kubernetes-server-linux-amd64.tar.gz\n");
        }
        return archive;
    }

    private static string Sha512(string path) => Convert.ToHexStringLower(SHA512.HashData(File.ReadAllBytes(path)));

    private Task<CliRunner.Result> Runtime(params string[] args) => CliRunner.RunAsync(["runtime", .. args, "--data-dir", DataDir]);

    [Fact]
    public async Task Installs_stand_in_release_archive_verified_by_its_published_sha512_and_switches_current()
    {
        var archive = StandInReleaseArchive("v1.32.3");

        var result = await Runtime("install", archive);

        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        Assert.Contains("installed Kubernetes v1.32.3", result.Out);
        var bin = Path.Combine(DataDir, "data", "v1.32.3", "bin");
        Assert.Equal(bin, RuntimeBundle.Find(DataDir));
        Assert.Equal("v1.32.3", Directory.ResolveLinkTarget(RuntimeBundle.CurrentLink(DataDir), false)?.Name);
        Assert.Equal(RuntimeBundleInstaller.RequiredBinaries.Order(), Directory.GetFiles(bin).Select(Path.GetFileName).Order());
        Assert.All(Directory.GetFiles(bin), f => Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(f)));
        Assert.Empty(Directory.GetDirectories(Path.Combine(DataDir, "data"), ".*"));

        var status = await Runtime("status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("* v1.32.3", status.Out);
        Assert.DoesNotContain("CHANGED", status.Out);
    }

    [Fact]
    public async Task Installs_stand_in_folder_with_sha512_files_and_status_sees_a_changed_binary()
    {
        var folder = StandInBinaries("v1.32.7");

        var result = await Runtime("install", folder);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);

        File.AppendAllText(Path.Combine(DataDir, "data", "v1.32.7", "bin", "kubelet"), "# tampered\n");
        var status = await Runtime("status", "-o", "json");
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("\"intact\": false", status.Out);
        Assert.Contains("changed or missing since install: kubelet", status.Out);
    }

    [Fact]
    public async Task A_reinstall_replaces_the_bundle_and_a_newer_patch_becomes_current()
    {
        Assert.Equal(0, (await Runtime("install", StandInReleaseArchive("v1.32.3"))).ExitCode);
        Assert.Equal(0, (await Runtime("install", StandInReleaseArchive("v1.32.3"))).ExitCode);
        File.Delete(_dir.Combine("kubernetes-server-linux-amd64.tar.gz"));
        Assert.Equal(0, (await Runtime("install", StandInBinaries("v1.32.4", "newer"))).ExitCode);

        Assert.Equal(Path.Combine(DataDir, "data", "v1.32.4", "bin"), RuntimeBundle.Find(DataDir));
        Assert.True(Directory.Exists(Path.Combine(DataDir, "data", "v1.32.3", "bin")));
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "wrong-minor", "but this Bulwark runs Kubernetes 1.32.x" },
        { "bad-sha512", "is not the published" },
        { "no-sha512", "no digest for" },
        { "missing-binary", "lacks kubernetes/server/bin/kube-scheduler" },
        { "mixed-releases", "from different releases" },
        { "not-kubernetes", "not \"Kubernetes vX.Y.Z\"" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Refuses_with_the_reason_and_changes_nothing(string kind, string message)
    {
        Assert.Equal(0, (await Runtime("install", StandInBinaries("v1.32.1", "installed"))).ExitCode);
        var before = Snapshot();
        string source;
        switch (kind)
        {
            case "wrong-minor":
                source = StandInReleaseArchive("v1.31.6");
                break;
            case "bad-sha512":
                source = StandInReleaseArchive("v1.32.3");
                File.WriteAllText(source + ".sha512", new string('a', 128));
                break;
            case "no-sha512":
                source = StandInReleaseArchive("v1.32.3", withSha512File: false);
                break;
            case "missing-binary":
                source = StandInReleaseArchive("v1.32.3", omit: "kube-scheduler");
                break;
            case "mixed-releases":
                source = StandInBinaries("v1.32.3", "mixed", odd: "kube-proxy", oddVersion: "v1.32.2");
                break;
            default:
                source = StandInBinaries("v1.32.3", "odd", odd: "kubelet", oddVersion: "(devel)");
                break;
        }

        var result = await Runtime("install", source);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Contains("Nothing was changed", result.Error);
        Assert.Equal(before, Snapshot());
    }

    /// <summary>Every path under data/ with its size: what "nothing changed" means here.</summary>
    private string Snapshot() => string.Join('\n', Directory.EnumerateFileSystemEntries(Path.Combine(DataDir, "data"), "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal).Select(p => $"{p} {(File.Exists(p) ? new FileInfo(p).Length : -1)} {new FileInfo(p).LinkTarget}"));
}
