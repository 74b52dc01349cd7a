namespace Bulwark.Tests.Server;

/// <summary>
/// Bad input to <c>bulwark server</c>/<c>agent</c>/<c>config</c> is a clear error (what, where, the fix) with the
/// exit code of its kind, never an internal message or exit 70. Runs the real CLI against real files.
/// </summary>
public sealed class ClearErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-errors");

    public void Dispose() => _dir.Dispose();

    private string Config(string yaml) => _dir.Write("etc/config.yaml", yaml);

    [Fact]
    public async Task Invalid_YAML_names_the_file_and_line_instead_of_an_internal_message()
    {
        var config = Config("token: [a, b\nnode-name: x\n");
        var result = await CliRunner.RunAsync("config", "print", "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(config)}:\d+: invalid YAML: the document is incomplete", result.Error);
        Assert.DoesNotContain("current state of the object", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("node-name: !!binary notbase64\n", "!!binary")]
    [InlineData("node-name: !!python/object:os.system x\n", "!!python/object:os.system")]
    [InlineData("tls-san:\n  - !custom a\n", "!custom")]
    public async Task Unknown_or_unsupported_YAML_tags_are_errors_with_file_and_line(string yaml, string tag)
    {
        var config = Config(yaml);
        var result = await CliRunner.RunAsync("config", "print", "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{config}:", result.Error, StringComparison.Ordinal);
        Assert.Contains($"YAML tag {tag} is not accepted", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_dir_that_is_a_file_is_a_usage_error_that_says_so()
    {
        var file = _dir.Write("not-a-dir", "x");
        var result = await CliRunner.RunAsync("server", "--data-dir", file, "--config", Config("# empty\n"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"[data-dir] refused: data-dir {file} is a file, not a folder", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_that_is_a_folder_is_a_usage_error_that_says_so_and_writes_nothing()
    {
        var folder = _dir.Combine("token-dir");
        Directory.CreateDirectory(folder);
        var data = _dir.Combine("agent-data");
        var result = await CliRunner.RunAsync("agent", "--server", "https://127.0.0.1:1", "--token-file", folder, "--data-dir", data, "--config", Config("# empty\n"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"token-file {folder} is a folder, not a file", result.Out, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), "a refused first start leaves no data dir behind");
    }

    [Fact]
    public async Task A_corrupt_CA_file_is_unavailable_with_its_path_and_the_fix_not_a_bug()
    {
        var data = _dir.Combine("data");
        var tls = Path.Combine(data, "server", "tls");
        Directory.CreateDirectory(tls);
        File.WriteAllText(Path.Combine(tls, "server-ca.crt"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        File.WriteAllText(Path.Combine(tls, "server-ca.key"), "garbage\n");
        var result = await CliRunner.RunAsync("server", "--data-dir", data, "--config", Config("# empty\n"));
        Assert.True(result.ExitCode == 3, result.Out + result.Error);
        Assert.Contains($"[pki] failed: {Path.Combine(tls, "server-ca.crt")} is not a valid PEM certificate", result.Out, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup", result.Out, StringComparison.Ordinal);
    }
}
