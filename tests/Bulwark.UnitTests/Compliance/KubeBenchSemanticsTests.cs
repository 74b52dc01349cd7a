using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// kube-bench's check semantics, one case per rule of its check/test.go (finding a flag, set, compare ops,
/// bin_op, JSONPath templates) and check/check.go (audit then audit_config, exit status, scored/unscored, type),
/// each a one-check catalog whose audit commands really run through /bin/sh (as with --allow-exec), with the
/// state kube-bench gives it.
/// </summary>
public sealed class KubeBenchSemanticsTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-kb-semantics");

    public void Dispose() => _dir.Dispose();

    /// <summary>A case: the rule, the check's YAML keys (audit, tests…, separated by ¶) and the state kube-bench gives it.</summary>
    public static TheoryData<string, string, CheckStatus> Cases => new()
    {
        // test.go flagTestItem.findValue: "flag=value", "flag: value", a bare --flag (true), "--flag value" only when comparing.
        { "flag=value", """audit: "echo kube-apiserver --profiling=false"¶tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}""", CheckStatus.Pass },
        { "flag: value", """audit: "echo 'readOnlyPort: 0'"¶tests: {test_items: [{flag: "readOnlyPort", compare: {op: eq, value: "0"}}]}""", CheckStatus.Pass },
        { "bare --flag reads true", """audit: "echo x --allow-privileged --secure-port=1"¶tests: {test_items: [{flag: "--allow-privileged", compare: {op: eq, value: "true"}}]}""", CheckStatus.Pass },
        { "--flag value when comparing", """audit: "echo x --audit-log-maxage 30"¶tests: {test_items: [{flag: "--audit-log-maxage", compare: {op: gte, value: "30"}}]}""", CheckStatus.Pass },
        { "--flag --next is the bare flag", """audit: "echo x --anonymous-auth --profiling=false"¶tests: {test_items: [{flag: "--anonymous-auth", compare: {op: eq, value: "false"}}]}""", CheckStatus.Fail },
        { "flag found by substring", """audit: "echo x --kubelet-client-certificate=/a.crt"¶tests: {test_items: [{flag: "--kubelet-client-certificate"}]}""", CheckStatus.Pass },
        // set: true is the default; set: false passes only when absent.
        { "set (default) and absent", """audit: "echo x --a=1"¶tests: {test_items: [{flag: "--token-auth-file"}]}""", CheckStatus.Fail },
        { "compare on an absent flag fails", """audit: "echo x --a=1"¶tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}""", CheckStatus.Fail },
        { "set false and absent", """audit: "echo x --a=1"¶tests: {test_items: [{flag: "--token-auth-file", set: false}]}""", CheckStatus.Pass },
        { "set false and present", """audit: "echo x --token-auth-file=/t.csv"¶tests: {test_items: [{flag: "--token-auth-file", set: false}]}""", CheckStatus.Fail },
        // compareOp.
        { "eq on a boolean ignores the actual value's case", """audit: "echo x --anonymous-auth=FALSE"¶tests: {test_items: [{flag: "--anonymous-auth", compare: {op: eq, value: "false"}}]}""", CheckStatus.Pass },
        { "eq on other values is exact", """audit: "echo x --authorization-mode=node"¶tests: {test_items: [{flag: "--authorization-mode", compare: {op: eq, value: "Node"}}]}""", CheckStatus.Fail },
        { "noteq", """audit: "echo x --authorization-mode=Node,RBAC"¶tests: {test_items: [{flag: "--authorization-mode", compare: {op: noteq, value: "AlwaysAllow"}}]}""", CheckStatus.Pass },
        { "gt", """audit: "echo x --n=5"¶tests: {test_items: [{flag: "--n", compare: {op: gt, value: "5"}}]}""", CheckStatus.Fail },
        { "gte", """audit: "echo x --n=5"¶tests: {test_items: [{flag: "--n", compare: {op: gte, value: "5"}}]}""", CheckStatus.Pass },
        { "lt", """audit: "echo x --n=5"¶tests: {test_items: [{flag: "--n", compare: {op: lt, value: "6"}}]}""", CheckStatus.Pass },
        { "lte", """audit: "echo x --n=7"¶tests: {test_items: [{flag: "--n", compare: {op: lte, value: "6"}}]}""", CheckStatus.Fail },
        { "a number op on a non-number fails", """audit: "echo x --n=5s"¶tests: {test_items: [{flag: "--n", compare: {op: gte, value: "1"}}]}""", CheckStatus.Fail },
        { "has", """audit: "echo x --enable-admission-plugins=NodeRestriction,PodSecurity"¶tests: {test_items: [{flag: "--enable-admission-plugins", compare: {op: has, value: "NodeRestriction"}}]}""", CheckStatus.Pass },
        { "nothave", """audit: "echo x --enable-admission-plugins=AlwaysAdmit"¶tests: {test_items: [{flag: "--enable-admission-plugins", compare: {op: nothave, value: "AlwaysAdmit"}}]}""", CheckStatus.Fail },
        { "regex", """audit: "echo x --request-timeout=300s"¶tests: {test_items: [{flag: "--request-timeout", compare: {op: regex, value: "^[0-9]+s$"}}]}""", CheckStatus.Pass },
        { "valid_elements ignores a trailing separator", """audit: "echo x --ciphers=TLS_A,TLS_B,"¶tests: {test_items: [{flag: "--ciphers", compare: {op: valid_elements, value: "TLS_A,TLS_B,TLS_C"}}]}""", CheckStatus.Pass },
        { "valid_elements with one outside", """audit: "echo x --ciphers=TLS_A,TLS_X"¶tests: {test_items: [{flag: "--ciphers", compare: {op: valid_elements, value: "TLS_A,TLS_B"}}]}""", CheckStatus.Fail },
        { "bitmask stricter", """audit: "echo permissions=600"¶tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "644"}}]}""", CheckStatus.Pass },
        { "bitmask more open", """audit: "echo permissions=644"¶tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}""", CheckStatus.Fail },
        // bin_op: and (the default) needs every item, or needs one.
        { "bin_op and with one failing", """audit: "echo x --a=1 --b=2"¶tests: {bin_op: and, test_items: [{flag: "--a", compare: {op: eq, value: "1"}}, {flag: "--b", compare: {op: eq, value: "3"}}]}""", CheckStatus.Fail },
        { "bin_op or with one passing", """audit: "echo x --a=1 --b=2"¶tests: {bin_op: or, test_items: [{flag: "--c"}, {flag: "--b", compare: {op: eq, value: "2"}}]}""", CheckStatus.Pass },
        // use_multiple_values: every output line on its own, all must pass.
        { "use_multiple_values all pass", """audit: "printf 'permissions=600\npermissions=400\n'"¶use_multiple_values: true¶tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}""", CheckStatus.Pass },
        { "use_multiple_values one fails", """audit: "printf 'permissions=600\npermissions=644\n'"¶use_multiple_values: true¶tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}""", CheckStatus.Fail },
        // pathTestItem: a JSONPath template on audit_config's YAML or JSON output; an empty result is absent.
        { "path on audit_config output", """audit_config: "printf 'authentication:\n  anonymous:\n    enabled: false\n'"¶tests: {test_items: [{path: "{.authentication.anonymous.enabled}", compare: {op: eq, value: "false"}}]}""", CheckStatus.Pass },
        { "path on JSON output", """audit_config: "echo '{\"readOnlyPort\": 0}'"¶tests: {test_items: [{path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}""", CheckStatus.Pass },
        { "path missing is absent (set false passes)", """audit_config: "echo 'a: 1'"¶tests: {test_items: [{path: "{.readOnlyPort}", set: false}]}""", CheckStatus.Pass },
        { "path with an empty value is absent", """audit_config: "echo 'tlsCertFile: \"\"'"¶tests: {test_items: [{path: "{.tlsCertFile}"}]}""", CheckStatus.Fail },
        { "JSONPath range prints each element", """audit_config: "printf 'tlsCipherSuites:\n- TLS_A\n- TLS_B\n'"¶tests: {test_items: [{path: "{range .tlsCipherSuites[:]}{}{','}{end}", compare: {op: valid_elements, value: "TLS_A,TLS_B,TLS_C"}}]}""", CheckStatus.Pass },
        { "JSONPath range with an element outside", """audit_config: "printf 'tlsCipherSuites:\n- TLS_A\n- TLS_WEAK\n'"¶tests: {test_items: [{path: "{range .tlsCipherSuites[:]}{}{','}{end}", compare: {op: valid_elements, value: "TLS_A,TLS_B"}}]}""", CheckStatus.Fail },
        { "JSONPath range over nothing is absent", """audit_config: "echo 'a: 1'"¶tests: {test_items: [{path: "{range .tlsCipherSuites[:]}{}{','}{end}", set: false}]}""", CheckStatus.Pass },
        // check.go execute: the flag in the audit output first, else the path in audit_config's output.
        { "flag found in the audit wins over the path", """audit: "echo x --read-only-port=10255"¶audit_config: "echo 'readOnlyPort: 0'"¶tests: {test_items: [{flag: "--read-only-port", path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}""", CheckStatus.Fail },
        { "flag absent falls back to the path", """audit: "echo x --a=1"¶audit_config: "echo 'readOnlyPort: 0'"¶tests: {test_items: [{flag: "--read-only-port", path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}""", CheckStatus.Pass },
        // check.go run: a failing command fails the check (fail closed), whatever the tests would say of its output.
        { "audit exits non-zero", """audit: "echo x --profiling=false; exit 3"¶tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}""", CheckStatus.Fail },
        { "audit exits non-zero with set false", """audit: "exit 1"¶tests: {test_items: [{flag: "--token-auth-file", set: false}]}""", CheckStatus.Fail },
        { "audit greps for a process that is not running", """audit: "/bin/ps -ef | /bin/grep bulwark-no-such-process-7f3a | /bin/grep -v grep"¶tests: {test_items: [{flag: "--anonymous-auth", set: false}]}""", CheckStatus.Fail },
        { "audit prints the flag only on stderr", """audit: "echo x --profiling=false >&2"¶tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}""", CheckStatus.Fail },
        { "audit_config exits non-zero", """audit_config: "cat /nonexistent/bulwark-kubelet-config.yaml"¶tests: {test_items: [{path: "{.readOnlyPort}", set: false}]}""", CheckStatus.Fail },
        { "audit_config exits non-zero although the audit answered", """audit: "echo x --read-only-port=0"¶audit_config: "cat /nonexistent/bulwark-kubelet-config.yaml; exit 1"¶tests: {test_items: [{flag: "--read-only-port", path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}""", CheckStatus.Fail },
        { "audit_config of a missing file printing nothing, audit answered", """audit: "echo x --read-only-port=0"¶audit_config: "/bin/sh -c 'if test -e /nonexistent/k.yaml; then cat /nonexistent/k.yaml; fi'"¶tests: {test_items: [{flag: "--read-only-port", path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}""", CheckStatus.Pass },
        { "unscored failure is WARN", """scored: false¶audit: "echo x --profiling=true"¶tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}""", CheckStatus.Warn },
        { "unscored failing command is WARN", """scored: false¶audit: "exit 2"¶tests: {test_items: [{flag: "--profiling"}]}""", CheckStatus.Warn },
        // Shell variables the catalog does not define are left to the shell.
        { "shell variables are the shell's", """audit: "ENCRYPTION_PROVIDER_CONFIG=/e.yaml; echo x --encryption-provider-config=$ENCRYPTION_PROVIDER_CONFIG"¶tests: {test_items: [{flag: "--encryption-provider-config", compare: {op: eq, value: "/e.yaml"}}]}""", CheckStatus.Pass },
        // type: manual and skip are reported without running anything.
        { "type manual", """type: manual¶audit: "exit 1"¶tests: {test_items: [{flag: "--a"}]}""", CheckStatus.Manual },
        { "type skip", """type: skip¶audit: "exit 1"¶tests: {test_items: [{flag: "--a"}]}""", CheckStatus.Skip },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_check_gets_the_state_kube_bench_gives_it(string rule, string body, CheckStatus expected)
    {
        var lines = body.Split('¶');
        var scored = lines.Any(l => l.StartsWith("scored:", StringComparison.Ordinal)) ? "" : "        scored: true\n";
        var check = string.Join("\n", lines.Select(l => "        " + l));
        _dir.Write("catalog/master.yaml", $"""
            controls:
            version: "semantics"
            id: 1
            text: "kube-bench semantics"
            type: "master"
            groups:
              - id: 1.1
                text: "one rule"
                checks:
                  - id: 1.1.1
                    text: "{rule}"
            {check}
            {scored}
            """);
        var catalog = CatalogLoader.LoadDirectory(_dir.Combine("catalog"), CatalogSettings.Empty);
        var node = new NodePaths(HostRoot.Real, "/var/lib/bulwark", "/etc/bulwark");
        var report = await AuditRunner.RunAsync(new AuditRequest(node, [catalog], AllowExec: true), TestContext.Current.CancellationToken);
        var result = Assert.Single(report.Checks);
        Assert.True(expected == result.Status, $"{rule}: {result.Status}, kube-bench gives {expected} ({result.Reason}; {string.Join("; ", result.Evidence.Select(e => $"{e.Subject}={e.Actual}"))})");
    }

    [Fact]
    public async Task Read_natively_a_guarded_audit_config_of_a_missing_file_leaves_the_tests_to_the_audit_as_kube_bench_does()
    {
        var key = _dir.Write("key.pem", "k");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var missing = _dir.Combine("absent/kubelet-config.yaml");
        _dir.Write("catalog/node.yaml", $$$"""
            controls:
            version: "semantics"
            id: 4
            text: "native"
            type: "node"
            groups:
              - id: 4.1
                text: "files"
                checks:
                  - id: guarded
                    text: "a guarded cat of a missing file is no evidence"
                    audit: "stat -c permissions=%a {{{key}}}"
                    audit_config: "/bin/sh -c 'if test -e {{{missing}}}; then /bin/cat {{{missing}}}; fi'"
                    tests: {test_items: [{flag: "permissions", path: "{.permissions}", compare: {op: bitmask, value: "600"}}]}
                    scored: true
                  - id: unguarded
                    text: "a plain cat of a missing file fails"
                    audit: "stat -c permissions=%a {{{key}}}"
                    audit_config: "/bin/cat {{{missing}}}"
                    tests: {test_items: [{flag: "permissions", path: "{.permissions}", compare: {op: bitmask, value: "600"}}]}
                    scored: true
            """);
        var catalog = CatalogLoader.LoadDirectory(_dir.Combine("catalog"), CatalogSettings.Empty);
        var node = new NodePaths(HostRoot.Real, "/var/lib/bulwark", "/etc/bulwark");
        // Both commands are recognised and read without a shell.
        var report = await AuditRunner.RunAsync(new AuditRequest(node, [catalog], AllowExec: false), TestContext.Current.CancellationToken);
        var r = report.Checks.ToDictionary(c => c.Id);
        Assert.True(CheckStatus.Pass == r["guarded"].Status, $"{r["guarded"].Status} {r["guarded"].Reason}");
        Assert.True(CheckStatus.Fail == r["unguarded"].Status, $"{r["unguarded"].Status} {r["unguarded"].Reason}");
    }
}
