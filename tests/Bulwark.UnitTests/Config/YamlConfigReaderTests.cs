using System.Text;
using Bulwark.Config;

namespace Bulwark.Tests.Config;

public sealed class YamlConfigReaderTests
{
    private static IReadOnlyList<ConfigProblem> Problems(string text) => YamlConfigReader.Read("config.yaml", Encoding.UTF8.GetBytes(text)).Problems;

    [Theory]
    [InlineData("token: [unclosed\n", "config.yaml:", "invalid YAML")]
    [InlineData("a: b\n  c: d\n", "config.yaml:", "invalid YAML")]
    [InlineData("token: a\ntoken: b\n", "config.yaml:2", "duplicate key (first set on line 1)")]
    [InlineData("kubelet-arg:\n  nested: map\n", "config.yaml:1", "nested mapping")]
    [InlineData("tls-san:\n  - [a, b]\n", "config.yaml:2", "list items must be plain values")]
    [InlineData("- just\n- a list\n", "config.yaml:1", "top level must be a mapping")]
    [InlineData("plain text\n", "config.yaml:1", "top level must be a mapping")]
    [InlineData("token: a\n---\ntoken: b\n", "config.yaml:2", "one YAML document")]
    [InlineData("base: &x 1\nother: *x\n", "config.yaml:2", "aliases")]
    public void Bad_yaml_gets_a_located_error(string text, string where, string message)
    {
        var problem = Problems(text).First(p => p.Severity == ProblemSeverity.Error);
        Assert.StartsWith(where, problem.Where, StringComparison.Ordinal);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_and_comment_only_files_warn_and_set_nothing()
    {
        Assert.Equal(ProblemSeverity.Warning, Assert.Single(Problems("")).Severity);
        Assert.Equal(ProblemSeverity.Warning, Assert.Single(Problems("# nothing here\n")).Severity);
    }

    [Fact]
    public void Binary_garbage_is_refused_as_not_text()
    {
        var (_, problems) = YamlConfigReader.Read("config.yaml", [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe]);
        Assert.Contains("binary", Assert.Single(problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_file_is_refused_before_parsing()
    {
        var bytes = new byte[YamlConfigReader.MaxFileBytes + 1];
        bytes.AsSpan().Fill((byte)'#');
        var (_, problems) = YamlConfigReader.Read("config.yaml", bytes);
        Assert.Contains("at most", Assert.Single(problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Byte_order_mark_is_accepted()
    {
        var (settings, problems) = YamlConfigReader.Read("config.yaml", [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("token: x\n")]);
        Assert.Empty(problems);
        Assert.Equal("token", Assert.Single(settings).Name);
    }
}
