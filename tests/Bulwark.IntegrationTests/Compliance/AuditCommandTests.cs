using Bulwark.Tests.Hardening;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// `bulwark audit` end to end in-process on the node Bulwark renders (real PKI, renderer and etcd member):
/// exit codes, several reports in one run, clear usage errors. A clean pass needs the CIS kernel parameters,
/// so the host's are hardened for the test and restored after it (the real-host collection).
/// </summary>
[Collection(RealHostCollection.Name)]
public sealed class AuditCommandTests : IAsyncLifetime
{
    private readonly SavedKernelParameters _saved = new();
    private readonly TempDirectory _out = new("bulwark-reports");
    private RenderedNode _node = null!;

    public async ValueTask InitializeAsync()
    {
        SavedKernelParameters.Harden();
        _node = await RenderedNode.CreateAsync(startEtcd: true, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        _out.Dispose();
        _saved.Dispose();
    }

    private Task<CliRunner.Result> AuditAsync(params string[] args) => CliRunner.RunAsync(["audit", .. _node.AuditArgs, .. args]);

    [Fact]
    public async Task A_hardened_node_exits_0_and_writes_every_requested_report()
    {
        var r = await AuditAsync("-o", "text", "--output", "json", "--output-file", _out.Combine("a.json"), "-o", "xccdf", "--output-file", _out.Combine("a.xccdf.xml"),
            "-o", "ckl", "--output-file", _out.Combine("a.ckl"), "-o", "cklb", "--output-file", _out.Combine("a.cklb"), "-o", "html", "--output-file", _out.Combine("a.html"),
            "-o", "sarif", "--output-file", _out.Combine("a.sarif"), "-o", "junit", "--output-file", _out.Combine("a.junit.xml"));
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Matches(@"Summary: \d+ checks: \d+ pass, 0 fail", r.Out);
        foreach (var file in new[] { "a.json", "a.xccdf.xml", "a.ckl", "a.cklb", "a.html", "a.sarif", "a.junit.xml" })
        {
            var path = _out.Combine(file);
            Assert.True(File.Exists(path), file);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Contains($"report: {path}", r.Error, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.GetFiles(_out.Path, ".*"));
    }

    [Fact]
    public async Task A_failed_check_exits_1()
    {
        _node.Replace("agent/pod-manifests/kube-apiserver.yaml", "--profiling=false", "--profiling=true");
        var r = await AuditAsync("--benchmark", "cis-1.23");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("FAIL    1.2.18", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("DISA", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fail_on_warn_also_fails_on_an_unscored_warning()
    {
        File.AppendAllText(_node.Data("agent/etc/kubelet.args"), "--hostname-override=other-name\n");
        var lenient = await AuditAsync("-b", "cis-1.23");
        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains("WARN    4.2.8", lenient.Out, StringComparison.Ordinal);
        var strict = await AuditAsync("-b", "cis-1.23", "--fail-on", "warn");
        Assert.Equal(1, strict.ExitCode);
    }

    [Fact]
    public async Task Usage_errors_exit_2_with_a_fix_and_write_nothing()
    {
        var cases = new (string[] Args, string Message)[]
        {
            (["--output-file", _out.Combine("x.json"), "-o", "json"], "has no --output format before it"),
            (["-o", "json", "-o", "text"], "only one --output format can go to standard output"),
            (["-b", "cis-1.23", "-o", "ckl", "--output-file", _out.Combine("x.ckl")], "add --benchmark stig"),
            (["--stig-benchmark", _out.Combine("missing.xml"), "-o", "ckl", "--output-file", _out.Combine("x.ckl")], "no such file"),
            (["--catalog", _out.Combine("nowhere")], "no such folder"),
            (["-o", "json", "--output-file", _out.Combine("a"), "-o", "html", "--output-file", _out.Combine("a")], "two reports would be written"),
        };
        foreach (var (args, message) in cases)
        {
            var r = await AuditAsync(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)} → {r.ExitCode}: {r.Error}");
            Assert.Contains(message, r.Error, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.GetFileSystemEntries(_out.Path));
        var badRoot = await CliRunner.RunAsync("audit", "--host-root", _out.Combine("no-root"));
        Assert.Equal(2, badRoot.ExitCode);
        var badFormat = await AuditAsync("-o", "pdf");
        Assert.Equal(2, badFormat.ExitCode);
    }

    [Fact]
    public async Task An_output_in_a_missing_folder_is_refused_before_anything_is_written()
    {
        var r = await AuditAsync("-o", "json", "--output-file", _out.Combine("a.json"), "-o", "html", "--output-file", _out.Combine("missing-dir", "a.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("missing-dir does not exist; create it first", r.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_out.Combine("a.json")), "reports are written only when all of them can be");
    }

    [Fact]
    public async Task The_checklist_takes_DISA_texts_from_stig_benchmark()
    {
        var ckl = _out.Combine("node.ckl");
        var r = await AuditAsync("-b", "stig", "-o", "ckl", "--output-file", ckl, "--stig-benchmark", RepoPaths.Fixture("stig/U_Kubernetes_STIG_V1R9_Manual-xccdf.xml"));
        Assert.True(r.ExitCode == 0, r.Error);
        var text = File.ReadAllText(ckl);
        Assert.Contains("The Kubernetes API server must have anonymous authentication disabled.", text, StringComparison.Ordinal);
        Assert.Contains("<STATUS>NotAFinding</STATUS>", text, StringComparison.Ordinal);
    }
}
