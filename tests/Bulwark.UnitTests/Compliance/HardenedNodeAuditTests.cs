using Bulwark.Compliance;

namespace Bulwark.Tests.Compliance;

public sealed class HardenedNodeAuditTests
{
    [Fact]
    public async Task Debug_dump()
    {
        using var node = HardenedNodeFixture.Create();
        var dir = "/tmp/audit-out";
        Directory.CreateDirectory(dir);
        var r = await CliRunner.RunAsync("audit", "--host-root", node.Root, "--etc-dir", "/etc/bulwark", "--data-dir", "/var/lib/bulwark",
            "-f", "text", "-f", "json", "-o", dir + "/r.json", "-f", "html", "-o", dir + "/r.html", "-f", "xccdf", "-o", dir + "/r.xml",
            "-f", "ckl", "-o", dir + "/r.ckl", "-f", "sarif", "-o", dir + "/r.sarif", "-f", "junit", "-o", dir + "/r.junit.xml");
        File.WriteAllText(dir + "/out.txt", $"exit {r.ExitCode}\n{r.Out}\n--- stderr\n{r.Error}");
    }
}
