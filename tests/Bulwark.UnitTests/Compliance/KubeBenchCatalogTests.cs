using Bulwark.Compliance;
using Bulwark.Compliance.Catalog;
using Bulwark.Compliance.Evidence;
using Bulwark.Hardening;

namespace Bulwark.Tests.Compliance;

/// <summary>
/// A small catalog written in kube-bench's controls format (audit/audit_config shell commands, test_items with
/// flag/path, set, bin_op, compare ops, $variables from config.yaml) evaluated end to end: the commands run
/// through /bin/sh only because the test passes AllowExec, as --allow-exec would.
/// </summary>
public sealed class KubeBenchCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-kb");

    public void Dispose() => _dir.Dispose();

    private const string Controls = """
        ---
        controls:
        version: "test-1.0"
        id: 1
        text: "Test controls"
        type: "master"
        groups:
          - id: 1.1
            text: "Flags from a process-like command line"
            checks:
              - id: eq-pass
                text: "eq on a boolean is case-insensitive for the actual value"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--anonymous-auth", compare: {op: eq, value: "false"}}]}
                scored: true
              - id: eq-fail
                text: "eq fails on another value"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}
                remediation: "set --profiling=false"
                scored: true
              - id: noteq
                text: "noteq"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--authorization-mode", compare: {op: noteq, value: "AlwaysAllow"}}]}
                scored: true
              - id: gt-gte-lt-lte
                text: "numeric ops"
                audit: "cat $argsfile"
                tests:
                  bin_op: and
                  test_items:
                    - {flag: "--audit-log-maxage", compare: {op: gt, value: "29"}}
                    - {flag: "--audit-log-maxage", compare: {op: gte, value: "30"}}
                    - {flag: "--audit-log-maxage", compare: {op: lt, value: "31"}}
                    - {flag: "--audit-log-maxage", compare: {op: lte, value: "30"}}
                scored: true
              - id: gt-not-a-number
                text: "numeric op on a non-number fails"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--authorization-mode", compare: {op: gt, value: "1"}}]}
                scored: true
              - id: has-nothave
                text: "has and nothave"
                audit: "cat $argsfile"
                tests:
                  bin_op: and
                  test_items:
                    - {flag: "--enable-admission-plugins", compare: {op: has, value: "NodeRestriction"}}
                    - {flag: "--enable-admission-plugins", compare: {op: nothave, value: "AlwaysAdmit"}}
                scored: true
              - id: regex
                text: "regex"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--request-timeout", compare: {op: regex, value: "^[0-9]+s$"}}]}
                scored: true
              - id: valid-elements-pass
                text: "every element in the allowed list"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--tls-cipher-suites", compare: {op: valid_elements, value: "TLS_A,TLS_B,TLS_C"}}]}
                scored: true
              - id: valid-elements-fail
                text: "an element outside the allowed list"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--tls-cipher-suites", compare: {op: valid_elements, value: "TLS_A"}}]}
                scored: true
              - id: set-false
                text: "set: false passes when the flag is absent"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--token-auth-file", set: false}]}
                scored: true
              - id: set-false-present
                text: "set: false fails when the flag is present"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--anonymous-auth", set: false}]}
                scored: true
              - id: bare-flag
                text: "a bare --flag reads as true"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--allow-privileged", compare: {op: eq, value: "true"}}]}
                scored: true
              - id: bin-op-or
                text: "or passes when one item passes"
                audit: "cat $argsfile"
                tests:
                  bin_op: or
                  test_items:
                    - {flag: "--missing-flag"}
                    - {flag: "--secure-port", compare: {op: eq, value: "6443"}}
                scored: true
              - id: unscored-fail
                text: "an unscored failure is a WARN"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}
                scored: false
              - id: unscored-by-default
                text: "without scored, a check is unscored as in kube-bench"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}
          - id: 1.2
            text: "Permissions and structured config"
            checks:
              - id: bitmask-pass
                text: "600 is within 644"
                audit: "stat -c permissions=%a $keyfile"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "644"}}]}
                scored: true
              - id: bitmask-fail
                text: "640 is not within 600"
                audit: "stat -c permissions=%a $groupfile"
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: path
                text: "path reads a JSONPath from audit_config output"
                audit_config: "cat $kubeletconf"
                tests:
                  bin_op: and
                  test_items:
                    - {path: "{.authentication.anonymous.enabled}", compare: {op: eq, value: "false"}}
                    - {path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}
                scored: true
              - id: flag-then-path
                text: "flag first, then the config path"
                audit: "cat $argsfile"
                audit_config: "cat $kubeletconf"
                tests: {test_items: [{flag: "--read-only-port", path: "{.readOnlyPort}", compare: {op: eq, value: "0"}}]}
                scored: true
              - id: multiple-values
                text: "use_multiple_values needs every line to pass"
                audit: "stat -c permissions=%a $keyfile $groupfile"
                use_multiple_values: true
                tests: {test_items: [{flag: "permissions", compare: {op: bitmask, value: "600"}}]}
                scored: true
              - id: manual
                text: "type manual is reported, not run"
                type: manual
                scored: false
          - id: 1.3
            text: "A skipped group"
            type: skip
            checks:
              - id: in-skipped-group
                text: "the group's type applies to its checks"
                audit: "cat $argsfile"
                tests: {test_items: [{flag: "--profiling", compare: {op: eq, value: "false"}}]}
                scored: true
        """;

    private Catalog WriteCatalog()
    {
        var args = _dir.Write("args.txt",
            "kube-apiserver --anonymous-auth=FALSE --profiling=true --authorization-mode=Node,RBAC --audit-log-maxage=30 " +
            "--enable-admission-plugins=NodeRestriction,PodSecurity --request-timeout=300s --tls-cipher-suites=TLS_A,TLS_C --allow-privileged --secure-port=6443\n");
        var key = _dir.Write("key.pem", "k");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var group = _dir.Write("group.pem", "g");
        File.SetUnixFileMode(group, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var kubelet = _dir.Write("kubelet.yaml", "authentication:\n  anonymous:\n    enabled: false\nreadOnlyPort: 0\n");
        _dir.Write("catalog/config.yaml", $"""
            variables:
              argsfile: "{args}"
              keyfile: "{key}"
              groupfile: "{group}"
              kubeletconf: "{kubelet}"
            """);
        _dir.Write("catalog/master.yaml", Controls);
        return CatalogLoader.LoadDirectory(_dir.Combine("catalog"), CatalogSettings.Empty);
    }

    private async Task<Dictionary<string, CheckResult>> RunAsync(bool allowExec)
    {
        var node = new NodePaths(HostRoot.Real, "/var/lib/bulwark", "/etc/bulwark");
        var report = await AuditRunner.RunAsync(new AuditRequest(node, [WriteCatalog()], allowExec), TestContext.Current.CancellationToken);
        return report.Checks.ToDictionary(c => c.Id);
    }

    [Fact]
    public async Task Each_compare_op_has_kube_bench_semantics()
    {
        var r = await RunAsync(allowExec: true);
        Assert.Equal(CheckStatus.Pass, r["eq-pass"].Status);
        Assert.Equal(CheckStatus.Fail, r["eq-fail"].Status);
        Assert.Equal(CheckStatus.Pass, r["noteq"].Status);
        Assert.Equal(CheckStatus.Pass, r["gt-gte-lt-lte"].Status);
        Assert.Equal(CheckStatus.Fail, r["gt-not-a-number"].Status);
        Assert.Equal(CheckStatus.Pass, r["has-nothave"].Status);
        Assert.Equal(CheckStatus.Pass, r["regex"].Status);
        Assert.Equal(CheckStatus.Pass, r["valid-elements-pass"].Status);
        Assert.Equal(CheckStatus.Fail, r["valid-elements-fail"].Status);
        Assert.Equal(CheckStatus.Pass, r["set-false"].Status);
        Assert.Equal(CheckStatus.Fail, r["set-false-present"].Status);
        Assert.Equal(CheckStatus.Pass, r["bare-flag"].Status);
        Assert.Equal(CheckStatus.Pass, r["bin-op-or"].Status);
        Assert.Equal(CheckStatus.Warn, r["unscored-fail"].Status);
        Assert.Equal(CheckStatus.Warn, r["unscored-by-default"].Status);
        Assert.Equal(CheckStatus.Pass, r["bitmask-pass"].Status);
        Assert.Equal(CheckStatus.Fail, r["bitmask-fail"].Status);
        Assert.Equal(CheckStatus.Pass, r["path"].Status);
        Assert.Equal(CheckStatus.Pass, r["flag-then-path"].Status);
        Assert.Equal(CheckStatus.Fail, r["multiple-values"].Status);
        Assert.Equal(CheckStatus.Manual, r["manual"].Status);
        Assert.Equal(CheckStatus.Skip, r["in-skipped-group"].Status);
    }

    [Fact]
    public async Task A_failure_names_the_actual_value_the_expectation_and_the_command_it_came_from()
    {
        var r = await RunAsync(allowExec: true);
        var failure = Assert.Single(r["eq-fail"].Evidence);
        Assert.Equal("--profiling", failure.Subject);
        Assert.Equal("true", failure.Actual);
        Assert.Equal("= false", failure.Expected);
        Assert.StartsWith("audit command: cat ", failure.Source, StringComparison.Ordinal);
        Assert.Equal("set --profiling=false", r["eq-fail"].Remediation);
        var bitmask = Assert.Single(r["bitmask-fail"].Evidence);
        Assert.Equal("640", bitmask.Actual);
        Assert.Equal(2, r["multiple-values"].Evidence.Count);
        Assert.Equal([true, false], r["multiple-values"].Evidence.Select(e => e.Passed));
    }

    [Fact]
    public async Task Without_allow_exec_no_command_runs_and_the_checks_say_why()
    {
        var withExec = await RunAsync(allowExec: true);
        var r = await RunAsync(allowExec: false);
        // stat and cat commands are recognised and read natively, with the same verdicts as the shell gives.
        string[] native = ["bitmask-pass", "bitmask-fail", "path", "multiple-values"];
        Assert.All(native, id => Assert.Equal(withExec[id].Status, r[id].Status));
        Assert.Equal(CheckStatus.Fail, r["bitmask-fail"].Status);
        Assert.EndsWith("group.pem", r["bitmask-fail"].Evidence.Single().Source, StringComparison.Ordinal);
        Assert.All(r.Values.Where(c => c.Id is not ("manual" or "in-skipped-group") && !native.Contains(c.Id)), c =>
        {
            Assert.Equal(CheckStatus.Skip, c.Status);
            Assert.Contains("--allow-exec", c.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void An_unknown_compare_op_makes_that_check_invalid_with_file_and_line_and_the_catalog_still_loads()
    {
        _dir.Write("bad/master.yaml", """
            groups:
              - id: 1
                checks:
                  - id: x
                    text: "x"
                    audit: "true"
                    tests:
                      test_items:
                        - flag: "--a"
                          compare: {op: equals, value: "1"}
            """);
        var check = Assert.Single(CatalogLoader.LoadDirectory(_dir.Combine("bad"), CatalogSettings.Empty).AllChecks);
        Assert.Contains("master.yaml:10", check.Invalid, StringComparison.Ordinal);
        Assert.Contains("equals", check.Invalid, StringComparison.Ordinal);
        Assert.Contains("bitmask", check.Invalid, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{rule: no-such-rule}", "cluster rule 'no-such-rule'")]
    [InlineData("{rule: privileged-pods, except-namespace: [kube-system]}", "unknown cluster key 'except-namespace'")]
    public void A_cluster_block_with_an_unknown_rule_or_key_makes_that_check_invalid_with_file_and_line(string cluster, string expected)
    {
        _dir.Write("bad/policies.yaml", $"""
            groups:
              - id: 5
                checks:
                  - id: x
                    text: "x"
                    type: manual
                    cluster: {cluster}
            """);
        var check = Assert.Single(CatalogLoader.LoadDirectory(_dir.Combine("bad"), CatalogSettings.Empty).AllChecks);
        Assert.Contains("policies.yaml:7", check.Invalid, StringComparison.Ordinal);
        Assert.Contains(expected, check.Invalid, StringComparison.Ordinal);
    }
}
