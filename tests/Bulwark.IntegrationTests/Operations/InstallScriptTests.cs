using CliWrap;
using CliWrap.Buffered;

namespace Bulwark.Tests.Operations;

/// <summary>
/// scripts/install.sh on a release packed by scripts/release.sh, from a local artifact folder (the
/// air-gap method; no network). The packed binary is a stand-in program (this machine runs no
/// systemd, so nothing is started); the units are checked by the real systemd-analyze.
/// </summary>
public sealed class InstallScriptTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-install");

    public void Dispose() => _dir.Dispose();

    private string Artifacts => _dir.Combine("artifacts");

    private string Prefix => _dir.Combine("prefix");

    private async Task PackReleaseWithStandInBinaryAsync()
    {
        var standIn = _dir.Write("stand-in/bulwark", "#!/bin/sh\necho \"bulwark stand-in $*\"\n");
        File.SetUnixFileMode(standIn, (UnixFileMode)0b111_101_101);
        var packed = await Run("bash", [Path.Combine(RepoPaths.Root, "scripts", "release.sh"), standIn, Artifacts]);
        Assert.True(packed.ExitCode == 0, packed.StandardError);
        File.WriteAllBytes(Path.Combine(Artifacts, "bulwark-images-core.linux-amd64.tar.zst"), [0x28, 0xb5, 0x2f, 0xfd]);
    }

    private Task<BufferedCommandResult> Install(string prefix) =>
        Run("sh", [Path.Combine(Artifacts, "install.sh")], new Dictionary<string, string?>
        {
            ["INSTALL_BULWARK_ARTIFACT_PATH"] = Artifacts,
            ["INSTALL_BULWARK_TAR_PREFIX"] = prefix,
            ["INSTALL_BULWARK_AGENT_IMAGES_DIR"] = Path.Combine(prefix, "images"),
        });

    [Fact]
    public async Task Installs_verified_stand_in_release_from_artifact_folder_without_starting_anything()
    {
        await PackReleaseWithStandInBinaryAsync();

        var result = await Install(Prefix);

        Assert.True(result.ExitCode == 0, result.StandardError + result.StandardOutput);
        Assert.Contains("sha256 verified", result.StandardOutput);
        Assert.Contains("not loaded", result.StandardOutput);
        foreach (var bin in new[] { "bulwark", "bulwark-killall.sh", "bulwark-uninstall.sh" })
        {
            Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(Prefix, "bin", bin)));
        }
        var units = Path.Combine(Prefix, "lib", "systemd", "system");
        var server = File.ReadAllText(Path.Combine(units, "bulwark-server.service"));
        Assert.Contains($"ExecStart={Prefix}/bin/bulwark server", server);
        Assert.Contains("Type=notify", server);
        Assert.Contains("KillMode=process", server);
        Assert.Contains($"ExecStart={Prefix}/bin/bulwark agent", File.ReadAllText(Path.Combine(units, "bulwark-agent.service")));
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(Path.Combine(Prefix, "images", "bulwark-images-core.linux-amd64.tar.zst")));
        Assert.Empty(Directory.GetFiles(Prefix, "*.bulwark-new", SearchOption.AllDirectories));

        var verify = await Run("systemd-analyze", ["verify", Path.Combine(units, "bulwark-server.service"), Path.Combine(units, "bulwark-agent.service")]);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Equal("", verify.StandardError.Trim());

        var installed = await Run(Path.Combine(Prefix, "bin", "bulwark"), ["version"]);
        Assert.Equal("bulwark stand-in version", installed.StandardOutput.Trim());
    }

    [Fact]
    public async Task Refuses_tampered_tarball_and_installs_nothing()
    {
        await PackReleaseWithStandInBinaryAsync();
        var tarball = Path.Combine(Artifacts, "bulwark.linux-amd64.tar.gz");
        var bytes = File.ReadAllBytes(tarball);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(tarball, bytes);

        var result = await Install(Prefix);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not match sha256sum-amd64.txt", result.StandardError);
        Assert.Contains("nothing was installed", result.StandardError);
        Assert.False(Directory.Exists(Prefix));
    }

    [Fact]
    public async Task Refuses_checksum_file_without_a_line_for_the_tarball()
    {
        await PackReleaseWithStandInBinaryAsync();
        File.WriteAllText(Path.Combine(Artifacts, "sha256sum-amd64.txt"), new string('0', 64) + "  other.tar.gz\n");

        var result = await Install(Prefix);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no line for bulwark.linux-amd64.tar.gz", result.StandardError);
        Assert.False(Directory.Exists(Prefix));
    }

    [Fact]
    public async Task Refuses_unknown_method_and_relative_prefix_before_touching_anything()
    {
        await PackReleaseWithStandInBinaryAsync();

        var rpm = await Run("sh", [Path.Combine(Artifacts, "install.sh")], new Dictionary<string, string?> { ["INSTALL_BULWARK_METHOD"] = "rpm", ["INSTALL_BULWARK_ARTIFACT_PATH"] = Artifacts });
        var relative = await Run("sh", [Path.Combine(Artifacts, "install.sh")], new Dictionary<string, string?> { ["INSTALL_BULWARK_TAR_PREFIX"] = "usr/local", ["INSTALL_BULWARK_ARTIFACT_PATH"] = Artifacts });

        Assert.Equal(1, rpm.ExitCode);
        Assert.Contains("INSTALL_BULWARK_METHOD=rpm is not supported", rpm.StandardError);
        Assert.Equal(1, relative.ExitCode);
        Assert.Contains("must be an absolute path", relative.StandardError);
    }

    private static Task<BufferedCommandResult> Run(string program, string[] args, IReadOnlyDictionary<string, string?>? environment = null) =>
        CliWrap.Cli.Wrap(program).WithArguments(args).WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(TestContext.Current.CancellationToken);
}
