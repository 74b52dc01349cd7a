using System.Text.Json;
using Bulwark.Compliance.Catalog;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The kube-bench config dir Bulwark ships (policies/kube-bench, what `bulwark audit --export-kube-bench-config`
/// writes) evaluated by `bulwark audit --catalog` on a node made by the real PKI and control-plane renderer.
/// kube-bench itself is not installable here: the folder is tested up to that boundary (its layout and
/// version_mapping as kube-bench reads them, its controls evaluated with kube-bench's semantics by Bulwark).
/// </summary>
public sealed class KubeBenchConfigDirTests : IAsyncDisposable
{
    private const string Benchmark = "bulwark-cis-1.12";
    private RenderedNode? _node;

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_shipped_kube_bench_config_dir_passes_on_the_rendered_node_and_fails_when_tampered()
    {
        _node = await RenderedNode.CreateAsync(startEtcd: true, cancellationToken: TestContext.Current.CancellationToken);
        var export = _node.Scratch.Combine("kube-bench");
        var exported = await CliRunner.RunAsync("audit", "--export-kube-bench-config", export);
        Assert.True(exported.ExitCode == 0, exported.Error);
        // The folder names Bulwark's default data dir; this node keeps its data elsewhere, as a user with another data-dir would rewrite it.
        foreach (var file in Directory.EnumerateFiles(export, "*.yaml", SearchOption.AllDirectories))
        {
            File.WriteAllText(file, File.ReadAllText(file).Replace("/var/lib/bulwark", _node.DataDir, StringComparison.Ordinal));
        }

        // kube-bench resolves $apiserverconf, $kubeletconf, $etcddatadir … to the first path of each list that exists: each list must name one the node has.
        var missing = KubeBenchPaths(Path.Combine(export, "config.yaml")).Where(l => !l.Any(p => File.Exists(p) || Directory.Exists(p))).Select(l => string.Join(" | ", l)).ToList();
        Assert.True(missing.Count == 0, "config.yaml names files the rendered node does not have: " + string.Join(", ", missing));

        var (statuses, kinds) = await AuditAsync(export);
        // Every section kube-bench's target_mapping names for the benchmark is there: master, node, etcd, controlplane, policies.
        Assert.Equal(["1", "2", "3", "4", "5"], statuses.Keys.Select(id => id.Split('.')[0]).Distinct().Order(StringComparer.Ordinal));
        Assert.True(statuses.Count >= 70, $"only {statuses.Count} checks loaded");
        // Manual checks stay manual; section 5's automated checks ask the cluster API through kubectl (no kube-apiserver is
        // installable here: up to that boundary they are SKIP, their shell scripts not run without --allow-exec); every other automated check passes.
        var manual = kinds.Where(k => k.Value == Kind.Manual).Select(k => k.Key).ToList();
        Assert.Contains("3.1.1", manual);
        Assert.Contains("5.1.7", manual);
        Assert.All(manual, id => Assert.Equal("MANUAL", statuses[id]));
        var kubectl = kinds.Where(k => k.Value == Kind.Kubectl).Select(k => k.Key).ToList();
        Assert.Equal(["5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.5", "5.1.6", "5.2.2", "5.2.3", "5.2.4", "5.2.5", "5.2.6"], kubectl.Order(StringComparer.Ordinal));
        Assert.All(kubectl, id => Assert.Equal("SKIP", statuses[id]));
        var notPassing = statuses.Where(s => kinds[s.Key] == Kind.Automated && s.Value != "PASS").ToList();
        Assert.True(notPassing.Count == 0, "automated checks of the shipped kube-bench folder that do not pass on the rendered node: " + string.Join(", ", notPassing));
        foreach (var id in new[] { "1.2.1", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.3.2", "4.2.1", "4.2.2", "1.1.21", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "3.2.1" })
        {
            Assert.Equal("PASS", statuses[id]);
        }

        _node.Replace("agent/pod-manifests/kube-apiserver.yaml", "--profiling=false", "--profiling=true");
        var manifest = File.ReadAllLines(_node.Data("agent/pod-manifests/kube-apiserver.yaml")).Single(l => l.Contains("--audit-policy-file=", StringComparison.Ordinal));
        _node.Replace("agent/pod-manifests/kube-apiserver.yaml", manifest + "\n", "");
        _node.Replace("agent/etc/kubelet-config.yaml", "anonymous:\n    enabled: false", "anonymous:\n    enabled: true");
        File.SetUnixFileMode(_node.Data("server/tls/server-ca.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        // Bulwark's etcd replaced by one started by hand (a real etcd) serving plain http: no TLS, no client certificates.
        await _node.StopEtcdAsync();
        using var rogue = StartPlainEtcd(_node.Data("server/db/etcd-rogue"));
        var (after, _) = await AuditAsync(export);
        var changed = after.Where(s => statuses[s.Key] != s.Value).ToDictionary();
        Assert.Equal(new Dictionary<string, string>
        {
            ["1.2.15"] = "FAIL", ["4.2.1"] = "FAIL", ["1.1.21"] = "WARN", ["3.2.1"] = "WARN",
            ["2.1"] = "FAIL", ["2.2"] = "FAIL", ["2.4"] = "FAIL", ["2.5"] = "FAIL", ["2.7"] = "WARN",
        }, changed);
        Assert.False(rogue.HasExited, "the hand-started etcd exited during the audit");
    }

    /// <summary>etcd with only the flags a careless hand gives it (no --cert-file, --client-cert-auth, peer TLS), on free loopback ports.</summary>
    private static RogueProcess StartPlainEtcd(string dataDir)
    {
        var ports = FreePorts.Take(2);
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/etcd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])[$"--name=rogue", $"--data-dir={dataDir}", $"--listen-client-urls=http://127.0.0.1:{ports[0]}",
            $"--advertise-client-urls=http://127.0.0.1:{ports[0]}", $"--listen-peer-urls=http://127.0.0.1:{ports[1]}",
            $"--initial-advertise-peer-urls=http://127.0.0.1:{ports[1]}", $"--initial-cluster=rogue=http://127.0.0.1:{ports[1]}"])
        {
            start.ArgumentList.Add(arg);
        }
        return new RogueProcess(System.Diagnostics.Process.Start(start)!);
    }

    /// <summary>A process this test started, killed (with its output drained) when disposed.</summary>
    private sealed class RogueProcess : IDisposable
    {
        private readonly System.Diagnostics.Process _process;

        public RogueProcess(System.Diagnostics.Process process)
        {
            _process = process;
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }

    private enum Kind
    {
        Automated,
        Manual,
        Kubectl,
    }

    [Fact]
    public async Task Kube_bench_style_audit_commands_are_read_natively_from_a_bulwark_node()
    {
        _node = await RenderedNode.CreateAsync(startEtcd: true, cancellationToken: TestContext.Current.CancellationToken);
        var catalog = _node.Scratch.Combine("rke2");
        _node.Scratch.Write("rke2/master.yaml", $$$"""
            controls:
            version: "rke2-cis-1.23"
            id: 1
            text: "Control Plane Security Configuration"
            type: "master"
            groups:
              - id: 1.1
                text: "Files"
                checks:
                  - id: 1.1.1
                    text: "apiserver manifest permissions"
                    audit: "/bin/sh -c 'if test -e $apiserverconf; then stat -c permissions=%a $apiserverconf; fi'"
                    tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "644"}}]}
                    scored: true
                  - id: 1.1.12
                    text: "etcd data dir ownership"
                    audit: "stat -c %U:%G $etcddatadir"
                    tests: {test_items: [{flag: "etcd:etcd"}]}
                    scored: true
                  - id: 1.1.21
                    text: "key permissions"
                    audit: "find {{{_node.Data("server/tls")}}} -name '*.key' | xargs stat -c permissions=%a"
                    use_multiple_values: true
                    tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                    scored: true
              - id: 1.2
                text: "API Server"
                checks:
                  - id: 1.2.1
                    text: "anonymous-auth"
                    audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
                    tests: {test_items: [{flag: "--anonymous-auth", compare: {op: eq, value: false}}]}
                    scored: true
                  - id: 4.2.1
                    text: "kubelet anonymous auth"
                    audit: "/bin/ps -fC $kubeletbin"
                    audit_config: "/bin/sh -c 'if test -e $kubeletconf; then /bin/cat $kubeletconf; fi' "
                    tests: {test_items: [{flag: "--anonymous-auth", path: "{.authentication.anonymous.enabled}", compare: {op: eq, value: false}}]}
                    scored: true
                  - id: 9.9.9
                    text: "something only a shell can do"
                    audit: "journalctl -u rke2-server | grep -c error"
                    tests: {test_items: [{flag: "0"}]}
                    scored: true
            """);
        var json = _node.Scratch.Combine("out.json");
        var r = await CliRunner.RunAsync(["audit", .. _node.AuditArgs, "--benchmark", "cis-1.23", "--catalog", catalog, "-o", "json", "--output-file", json]);
        // Exit 1 is allowed: the built-in cis-1.23 also reads this host's own kernel parameters, which this test does not harden.
        Assert.True(r.ExitCode is 0 or 1, r.Error);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var user = doc.RootElement.GetProperty("benchmarks").EnumerateArray().Single(b => b.GetProperty("id").GetString() == "rke2");
        var statuses = user.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("checks").EnumerateArray())
            .ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("PASS", statuses["1.1.1"]);
        Assert.Equal("PASS", statuses["1.1.12"]);
        Assert.Equal("PASS", statuses["1.1.21"]);
        Assert.Equal("PASS", statuses["1.2.1"]);
        Assert.Equal("PASS", statuses["4.2.1"]);
        Assert.Equal("SKIP", statuses["9.9.9"]);
    }

    [Fact]
    public async Task The_export_refuses_a_folder_that_already_holds_files()
    {
        using var dir = new TempDirectory("bulwark-kube-bench-export");
        dir.Write("config.yaml", "mine\n");
        var r = await CliRunner.RunAsync("audit", "--export-kube-bench-config", dir.Path);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("config.yaml", r.Error, StringComparison.Ordinal);
        Assert.Equal("mine\n", File.ReadAllText(dir.Combine("config.yaml")));
    }

    /// <summary>The path lists config.yaml gives kube-bench for each component (confs, kubeconfig, svc, cafile, datadirs; each default alone).</summary>
    private static List<IReadOnlyList<string>> KubeBenchPaths(string configFile)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(configFile)));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var keys = new HashSet<string>(["confs", "kubeconfig", "svc", "cafile", "datadirs", "defaultconf", "defaultkubeconfig", "defaultsvc", "defaultcafile", "defaultdatadir"]);
        var paths = new List<IReadOnlyList<string>>();
        foreach (var section in new[] { "master", "node", "etcd" })
        {
            foreach (var component in ((YamlMappingNode)root[section]).Children.Values.OfType<YamlMappingNode>())
            {
                foreach (var (key, value) in component.Children.Where(c => keys.Contains(((YamlScalarNode)c.Key).Value!)))
                {
                    paths.Add(value is YamlSequenceNode list ? list.Children.Select(n => ((YamlScalarNode)n).Value!).ToList() : [((YamlScalarNode)value).Value!]);
                }
            }
        }
        Assert.True(paths.Count >= 15, $"only {paths.Count} paths in {configFile}");
        return paths;
    }

    /// <summary>`bulwark audit --catalog DIR -o json` on the node; the catalog's checks by id with their status, and what kind of check each is.</summary>
    private async Task<(Dictionary<string, string> Statuses, Dictionary<string, Kind> Kinds)> AuditAsync(string catalog)
    {
        var r = await CliRunner.RunAsync(["audit", .. _node!.AuditArgs, "--benchmark", "cis-1.12", "--catalog", catalog, "-o", "json"]);
        Assert.True(r.ExitCode is 0 or 1, r.Error);
        using var report = JsonDocument.Parse(r.Out);
        var bench = report.RootElement.GetProperty("benchmarks").EnumerateArray().Single(b => b.GetProperty("id").GetString() == Benchmark);
        var checks = bench.GetProperty("sections").EnumerateArray().SelectMany(s => s.GetProperty("checks").EnumerateArray()).ToList();
        // No check of the shipped folder may be one Bulwark cannot evaluate.
        var errors = checks.Where(c => c.GetProperty("error").GetBoolean()).Select(c => $"{c.GetProperty("id")}: {c.GetProperty("reason")}").ToList();
        Assert.True(errors.Count == 0, "checks that could not be evaluated: " + string.Join("; ", errors));
        var statuses = checks.ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString()!);
        return (statuses, KindsOf(catalog));
    }

    /// <summary>Each check of the folder's controls files: manual (type: manual), asking the cluster API (kubectl in its audit), or automated.</summary>
    private static Dictionary<string, Kind> KindsOf(string catalog) =>
        CatalogLoader.LoadDirectory(catalog, CatalogSettings.Empty).AllChecks.ToDictionary(c => c.Id, c =>
            c.Type == CheckType.Manual ? Kind.Manual : c.Audit?.Contains("kubectl", StringComparison.Ordinal) == true ? Kind.Kubectl : Kind.Automated);
}
