using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// The master:/node:/etcd: component keys of a kube-bench config.yaml (bins, confs, kubeconfig, svc, cafile, datadirs
/// and their default*) decide what `bulwark audit --catalog` reads, as they decide what kube-bench substitutes for
/// $apiserverbin, $apiserverconf, $etcddatadir …: the first entry that exists (or runs), else the default.
/// Every first entry here is missing, so each check passes only if the next entry was read.
/// </summary>
public sealed class KubeBenchComponentKeysTests : IDisposable
{
    private static readonly CatalogSettings BulwarkLayout = CatalogLoader.LoadCis(EmbeddedData.BuiltIn, ComplianceAudit.DefaultCis).Settings;
    private readonly TempDirectory _dir = new("bulwark-kb-keys");

    public void Dispose() => _dir.Dispose();

    private const string Controls = """
        controls:
        version: "keys"
        id: 1
        text: "component keys"
        type: "master"
        groups:
          - id: 1.1
            text: "each key kind"
            checks:
              - id: bins
                text: "the first running binary of bins"
                audit: "/bin/ps -ef | /bin/grep $apiserverbin | /bin/grep -v grep"
                tests: {test_items: [{flag: "--kb-flag", compare: {op: eq, value: "yes"}}]}
                scored: true
              - id: confs
                text: "confs"
                audit: "stat -c permissions=%a $apiserverconf"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: kubeconfig
                text: "kubeconfig"
                audit: "stat -c permissions=%a $apiserverkubeconfig"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: svc
                text: "svc"
                audit: "stat -c permissions=%a $kubeletsvc"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: cafile
                text: "cafile"
                audit: "stat -c permissions=%a $kubeletcafile"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: datadirs
                text: "datadirs"
                audit: "stat -c permissions=%a $etcddatadir"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "700"}}]}
                scored: true
              - id: conf-read
                text: "the file $kubeletconf names is the one read"
                audit_config: "/bin/cat $kubeletconf"
                tests: {test_items: [{path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}
                scored: true
              - id: defaultconf
                text: "no path of confs exists: defaultconf"
                audit: "stat -c permissions=%a $proxyconf"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
        """;

    private string Absent(string name) => _dir.Combine("absent/" + name);

    private string Private(string name, string text = "x", string mode = "600")
    {
        var path = _dir.Write("node/" + name, text);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));
        return path;
    }

    /// <summary>A kube-bench config dir (cfg/config.yaml mapping Kubernetes 1.32 to cfg/keys) whose paths are all under the temp dir.</summary>
    private string WriteConfigDir(string binary)
    {
        var dataDir = Directory.CreateDirectory(_dir.Combine("node/etcd-data")).FullName;
        File.SetUnixFileMode(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _dir.Write("cfg/config.yaml", $$"""
            master:
              components: [apiserver, etcd]
              apiserver:
                bins: ["bulwark-kb-absent-binary", "{{binary}}"]
                confs: ["{{Absent("apiserver.yaml")}}", "{{Private("apiserver.yaml")}}"]
                defaultconf: "{{Private("apiserver-default.yaml", mode: "644")}}"
                kubeconfig: ["{{Absent("apiserver.kubeconfig")}}", "{{Private("apiserver.kubeconfig")}}"]
              etcd:
                optional: true
                datadirs: ["{{Absent("etcd")}}", "{{dataDir}}"]
                defaultdatadir: "{{Absent("etcd-default")}}"
              # Not listed under components: kube-bench ignores it, so Bulwark does too.
              kubelet:
                confs: ["{{Private("not-listed.yaml", mode: "644")}}"]
            node:
              components: [kubelet, proxy]
              kubelet:
                svc: ["{{Absent("kubelet.service")}}", "{{Private("kubelet.args")}}"]
                cafile: ["{{Absent("client-ca.crt")}}", "{{Private("client-ca.crt")}}"]
                confs: ["{{Absent("kubelet-config.yaml")}}", "{{Private("kubelet-config.yaml", "readOnlyPort: 0\n")}}"]
              proxy:
                confs: ["{{Absent("kube-proxy.yaml")}}"]
                defaultconf: "{{Private("kube-proxy-default.yaml")}}"
            version_mapping:
              "1.32": "keys"
            """);
        _dir.Write("cfg/keys/master.yaml", Controls);
        return _dir.Combine("cfg");
    }

    private async Task<Dictionary<string, CheckResult>> AuditAsync(string configDir)
    {
        var catalog = CatalogLoader.LoadDirectory(configDir, BulwarkLayout);
        var node = new NodePaths(HostRoot.Real, _dir.Combine("node"), _dir.Combine("etc"));
        var report = await AuditRunner.RunAsync(new AuditRequest(node, [catalog], AllowExec: false), TestContext.Current.CancellationToken);
        return report.Checks.ToDictionary(c => c.Id);
    }

    [Fact]
    public async Task Each_key_kind_is_honoured_and_a_missing_first_entry_falls_back_to_the_next()
    {
        await using var process = ShellStandIn.Start(_dir.Path, "bulwark-kb-", "--kb-flag=yes", $"--data-dir={_dir.Combine("node")}/");
        var results = await AuditAsync(WriteConfigDir(process.Name));
        foreach (var id in new[] { "bins", "confs", "kubeconfig", "svc", "cafile", "datadirs", "conf-read", "defaultconf" })
        {
            var r = results[id];
            Assert.True(r.Status == CheckStatus.Pass, $"{id}: {r.Status} ({r.Reason}; {string.Join("; ", r.Evidence.Select(e => $"{e.Subject}={e.Actual} from {e.Source}"))})");
        }
        Assert.Contains(results["confs"].Evidence, e => e.Source.Contains(_dir.Combine("node/apiserver.yaml"), StringComparison.Ordinal));
        Assert.Contains(results["defaultconf"].Evidence, e => e.Source.Contains("kube-proxy-default.yaml", StringComparison.Ordinal));
        Assert.Contains(results["bins"].Evidence, e => e.Source.Contains($"running process {process.Id}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Other_paths_in_config_yaml_change_what_is_read()
    {
        var configDir = WriteConfigDir("bulwark-kb-not-running");
        var path = Path.Combine(configDir, "config.yaml");
        // The second confs entry now names a group-readable file: the check reads it and fails.
        File.WriteAllText(path, File.ReadAllText(path).Replace(_dir.Combine("node/apiserver.yaml"), Private("apiserver-0644.yaml", mode: "644"), StringComparison.Ordinal));
        var results = await AuditAsync(configDir);
        Assert.Equal(CheckStatus.Fail, results["confs"].Status);
        Assert.Contains(results["confs"].Evidence, e => e.Source.Contains("apiserver-0644.yaml", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, int> Malformed => new()
    {
        { "master:\n  components: [apiserver]\n  apiserver:\n    confs: {a: b}\n", "'confs' must be a list of strings", 4 },
        { "master:\n  components: [apiserver]\n  apiserver:\n    confs: [/a]\n    defaultconf: [/a, /b]\n", "master.apiserver.defaultconf must be one path", 5 },
        { "node:\n  components: [kubelet]\n  kubelet:\n    optional: maybe\n", "'optional: maybe' must be true or false", 4 },
        { "etcd:\n  components: [etcd]\n  etcd:\n    bins: [etcd]\n    datadir: /var/lib/etcd\n", "etcd.etcd has unknown key 'datadir'", 5 },
        { "master:\n  components: [apiserver]\n  apiserver: kube-apiserver\n", "expected master.apiserver", 3 },
        { "master:\n  components: {apiserver: true}\n", "'components' must be a list of strings", 2 },
        { "node:\n  components: [kubelet]\n  kubelet:\n    bins: [[kubelet]]\n", "expected a plain value here", 4 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_component_key_is_refused_with_file_and_line(string config, string message, int line)
    {
        _dir.Write("bad/config.yaml", config);
        _dir.Write("bad/master.yaml", Controls);
        var e = Assert.Throws<CatalogException>(() => CatalogLoader.LoadDirectory(_dir.Combine("bad"), BulwarkLayout));
        Assert.Contains($"{_dir.Combine("bad/config.yaml")}:{line}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
