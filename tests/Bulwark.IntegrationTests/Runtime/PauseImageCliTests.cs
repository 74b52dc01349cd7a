using System.Text.Json.Nodes;
using Bulwark.Tests.Airgap;

namespace Bulwark.Tests.Runtime;

/// <summary>`bulwark node pause-image`: the stand-in sandbox image archive, read back by skopeo (as containerd imports it).</summary>
public sealed class PauseImageCliTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-pause");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Writes_an_oci_archive_under_the_given_name_that_skopeo_reads_with_busybox_as_its_entrypoint()
    {
        var archive = Path.Combine(Directory.CreateDirectory(_dir.Combine("images")).FullName, "pause.tar");
        var run = await CliRunner.RunAsync("node", "pause-image", "--output-file", archive, "--image", "registry.test/pause:demo");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"wrote {archive}: registry.test/pause:demo", run.Out);
        var config = JsonNode.Parse(await Tools.RunAsync("skopeo", "inspect", "--config", $"oci-archive:{archive}:registry.test/pause:demo"))!;
        Assert.Equal("amd64", config["architecture"]!.GetValue<string>());
        Assert.Contains("busybox", config["config"]!.ToJsonString());
    }

    [Fact]
    public async Task A_bad_image_name_or_a_missing_output_file_is_a_usage_error()
    {
        var bad = await CliRunner.RunAsync("node", "pause-image", "--output-file", _dir.Combine("p.tar"), "--image", "Not A Reference");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--image Not A Reference is not an image reference", bad.Error);
        Assert.False(File.Exists(_dir.Combine("p.tar")));
        var nowhere = await CliRunner.RunAsync("node", "pause-image", "--output-file", _dir.Combine("no-such-dir", "p.tar"));
        Assert.NotEqual(0, nowhere.ExitCode);
        Assert.Contains("does not exist; create it first", nowhere.Error);
        var missing = await CliRunner.RunAsync("node", "pause-image");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--output-file", missing.Error);
    }
}
