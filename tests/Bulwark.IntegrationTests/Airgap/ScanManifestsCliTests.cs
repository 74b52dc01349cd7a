using System.Text.Json.Nodes;
using Bulwark.Addons;
using Bulwark.Resources;

namespace Bulwark.Tests.Airgap;

/// <summary>
/// The real <c>bulwark scan manifests</c> (in-process, or the published binary under make test) on folders of manifests: exit codes,
/// file:line and field paths in text, SARIF and JSON; and the manifests Bulwark itself renders (static pods, add-ons).
/// </summary>
public sealed class ScanManifestsCliTests
{
    internal const string RestrictedDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          template:
            spec:
              securityContext:
                runAsNonRoot: true
                seccompProfile: {type: RuntimeDefault}
              containers:
                - name: web
                  image: registry.local/web:1
                  securityContext:
                    allowPrivilegeEscalation: false
                    capabilities: {drop: [ALL]}
        """;

    // A privileged host agent: line 9 hostNetwork, line 14 privileged.
    private const string HostAgent = """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: monitoring
        spec:
          template:
            spec:
              hostNetwork: true
              containers:
                - name: agent
                  image: registry.local/agent:1
                  securityContext:
                    privileged: true
        """;

    private const string JobNeedingRestricted = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate}
        spec:
          template:
            spec:
              containers:
                - name: migrate
                  image: registry.local/migrate:1
        """;

    [Fact]
    public async Task A_folder_with_violations_exits_1_with_file_line_and_field_paths_in_text_sarif_and_json()
    {
        using var dir = new TempDirectory("bulwark-scan-manifests");
        dir.Write("manifests/web.yaml", RestrictedDeployment);
        var agent = dir.Write("manifests/system/agent.yaml", HostAgent);
        dir.Write("manifests/jobs.yml", JobNeedingRestricted);
        var sarifFile = dir.Combine("scan.sarif");
        var jsonFile = dir.Combine("scan.json");
        var run = await CliRunner.RunAsync("scan", "manifests", dir.Combine("manifests"), "-o", "text", "-o", "sarif", "--output-file", sarifFile, "-o", "json", "--output-file", jsonFile);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"found spec.template.spec.hostNetwork = true, expected unset or false  ({agent}:9)", run.Out, StringComparison.Ordinal);
        Assert.Contains($"found spec.template.spec.containers[0].securityContext.privileged = true, expected unset or false  ({agent}:14)", run.Out, StringComparison.Ordinal);
        Assert.Contains("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = unset", run.Out, StringComparison.Ordinal);
        Assert.Contains($"skipped {dir.Combine("manifests/jobs.yml")}:1: kind ConfigMap has no pod template", run.Error, StringComparison.Ordinal);
        Assert.Contains("scanned 3 file(s): 3 workload(s)", run.Error, StringComparison.Ordinal);

        var sarif = JsonNode.Parse(File.ReadAllText(sarifFile))!;
        var results = sarif["runs"]![0]!["results"]!.AsArray();
        var privileged = results.Single(r => (string?)r!["ruleId"] == "pss-restricted/privileged" && (string?)r["kind"] == "fail")!;
        var location = privileged["locations"]![0]!["physicalLocation"]!;
        Assert.Equal("file://" + agent, (string?)location["artifactLocation"]!["uri"]);
        Assert.Equal(14, (int)location["region"]!["startLine"]!);
        var ruleIds = sarif["runs"]![0]!["tool"]!["driver"]!["rules"]!.AsArray().Select(r => (string?)r!["id"]).ToList();
        Assert.Equal(ruleIds.Distinct().Count(), ruleIds.Count);

        var json = JsonNode.Parse(File.ReadAllText(jsonFile))!;
        var sections = json["benchmarks"]![0]!["sections"]!.AsArray();
        Assert.Equal(["DaemonSet monitoring/agent", "Deployment shop/web", "Job migrate"], sections.Select(s => (string)s!["text"]!).Order(StringComparer.Ordinal));
        var web = sections.Single(s => (string?)s!["text"] == "Deployment shop/web")!;
        Assert.Equal(0, (int)web["totals"]!["fail"]!);
        var evidence = sections.Single(s => (string?)s!["text"] == "DaemonSet monitoring/agent")!["checks"]!.AsArray()
            .Single(c => (string?)c!["id"] == "host-namespaces")!["evidence"]![0]!;
        Assert.Equal("spec.template.spec.hostNetwork", (string?)evidence["subject"]);
        Assert.Equal(9, (int)evidence["line"]!);
    }

    [Fact]
    public async Task Clean_manifests_exit_0_baseline_ignores_restricted_rules_and_bad_input_exits_2_with_file_line()
    {
        using var dir = new TempDirectory("bulwark-scan-manifests");
        var web = dir.Write("web.yaml", RestrictedDeployment);
        var clean = await CliRunner.RunAsync("scan", "manifests", web, "-o", "junit");
        Assert.Equal(0, clean.ExitCode);
        Assert.Contains("<testsuites", clean.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("<failure", clean.Out, StringComparison.Ordinal);

        // The Job breaks only restricted rules (no securityContext at all), so baseline passes it.
        var job = dir.Write("job.yaml", JobNeedingRestricted);
        Assert.Equal(1, (await CliRunner.RunAsync("scan", "manifests", job)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("scan", "manifests", job, "--level", "baseline")).ExitCode);

        var broken = dir.Write("broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   labels: {a: b}\n");
        var malformed = await CliRunner.RunAsync("scan", "manifests", dir.Path);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Matches($@"error: {System.Text.RegularExpressions.Regex.Escape(broken)}:\d+: not valid YAML", malformed.Error);
        Assert.Equal("", malformed.Out);

        var missing = await CliRunner.RunAsync("scan", "manifests", dir.Combine("nowhere"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no such file or folder", missing.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await CliRunner.RunAsync("scan", "manifests", web, "--level", "privileged")).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("scan", "manifests", web, "-o", "ckl")).ExitCode);
    }

    /// <summary>
    /// What Bulwark writes itself: the control plane's static pods (real renderer, CIS profile) and server/manifests (the CNI
    /// HelmCharts and helm-controller, by the real add-on stage). They run in kube-system (PSA-exempt) with host networking, so
    /// violations are expected; the test checks they are all evaluated, with paths and lines, and nothing crashes.
    /// </summary>
    [Fact]
    public async Task The_manifests_bulwark_renders_are_evaluated_and_the_host_network_system_pods_are_reported()
    {
        await using var node = await RenderedNode.CreateAsync(startEtcd: false, cancellationToken: TestContext.Current.CancellationToken);
        AddonStage.Render(node.Config, EmbeddedData.BuiltIn);
        var staticPods = node.Data("agent/pod-manifests");
        var run = await CliRunner.RunAsync("scan", "manifests", staticPods, "-o", "json");
        Assert.Equal(1, run.ExitCode);
        var sections = JsonNode.Parse(run.Out)!["benchmarks"]![0]!["sections"]!.AsArray();
        var apiserver = sections.Single(s => (string?)s!["text"] == "Pod kube-system/kube-apiserver")!;
        var hostNetwork = apiserver["checks"]!.AsArray().Single(c => (string?)c!["id"] == "host-namespaces")!;
        Assert.Equal("FAIL", (string?)hostNetwork["status"]);
        Assert.Equal("spec.hostNetwork", (string?)hostNetwork["evidence"]![0]!["subject"]);
        Assert.True((int)hostNetwork["evidence"]![0]!["line"]! > 1);
        TestContext.Current.TestOutputHelper?.WriteLine($"static pods: {string.Join("; ", sections.Select(s => $"{s!["text"]}: {s["totals"]!["fail"]} failed"))}");

        var addons = await CliRunner.RunAsync("scan", "manifests", node.Data("server/manifests"), "--level", "baseline", "-o", "json");
        Assert.True(addons.ExitCode is 0 or 1, addons.Error);
        var addonSections = JsonNode.Parse(addons.Out)!["benchmarks"]![0]!["sections"]!.AsArray();
        Assert.Contains(addonSections, s => (string?)s!["text"] == "Deployment kube-system/helm-controller");
        // The CNI charts are HelmChart objects: listed as skipped, not silently passed.
        Assert.Contains("kind HelmChart has no pod template", addons.Error, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"add-ons (baseline): exit {addons.ExitCode}; {string.Join("; ", addonSections.Select(s => $"{s!["text"]}: {s["totals"]!["fail"]} failed"))}");
    }
}
