using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.Pipeline;

/// <summary>The Pod Security Standards data and evaluator: every rule fails on a hand-written violation and passes on its allowed values.</summary>
public sealed class PodSecurityEvaluatorTests
{
    private static readonly PodSecurityStandards Standards = PodSecurityStandards.Load(EmbeddedData.BuiltIn);

    // A pod that meets restricted; each case below edits one line of it.
    private const string CompliantPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: app
          annotations:
            team: shop
        spec:
          securityContext:
            runAsNonRoot: true
            seccompProfile:
              type: RuntimeDefault
          volumes:
            - name: config
              configMap: {name: app}
          containers:
            - name: app
              image: registry.local/app:1
              securityContext:
                allowPrivilegeEscalation: false
                capabilities:
                  drop: [ALL]
        """;

    private static IReadOnlyList<PodSecurityViolation> Evaluate(string yaml, PodSecurityLevel level)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new PodSecurityEvaluator(Standards).Evaluate((YamlMappingNode)stream.Documents[0].RootNode, "", Standards.At(level));
    }

    private static string Edit(string find, string replace)
    {
        Assert.Contains(find, CompliantPod);
        return CompliantPod.Replace(find, replace, StringComparison.Ordinal);
    }

    [Fact]
    public void The_compliant_pod_meets_restricted_and_the_data_has_every_upstream_control()
    {
        Assert.Empty(Evaluate(CompliantPod, PodSecurityLevel.Restricted));
        Assert.Equal("latest", Standards.Version);
        Assert.Equal("v1.32", Standards.Kubernetes);
        Assert.Equal(
            ["host-process", "host-namespaces", "privileged", "capabilities-baseline", "host-path-volumes", "host-ports", "apparmor", "selinux", "proc-mount",
             "seccomp-baseline", "sysctls", "volume-types", "privilege-escalation", "run-as-non-root", "run-as-user", "seccomp-restricted", "capabilities-restricted"],
            Standards.Rules.Select(r => r.Id));
        // Restricted evaluates its stricter seccomp and capabilities rules in place of baseline's, as the PSA plugin does.
        Assert.DoesNotContain(Standards.At(PodSecurityLevel.Restricted), r => r.Id is "seccomp-baseline" or "capabilities-baseline");
        Assert.All(Standards.At(PodSecurityLevel.Baseline), r => Assert.Equal(PodSecurityLevel.Baseline, r.Level));
    }

    public static TheoryData<string, PodSecurityLevel, string, string, string> Violations => new()
    {
        { "host-process", PodSecurityLevel.Baseline, "    runAsNonRoot: true\n", "    runAsNonRoot: true\n    windowsOptions: {hostProcess: true}\n", "spec.securityContext.windowsOptions.hostProcess" },
        { "host-namespaces", PodSecurityLevel.Baseline, "spec:\n", "spec:\n  hostPID: true\n", "spec.hostPID" },
        { "host-namespaces", PodSecurityLevel.Baseline, "spec:\n", "spec:\n  hostNetwork: True\n", "spec.hostNetwork" },
        { "privileged", PodSecurityLevel.Baseline, "        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        privileged: true\n", "spec.containers[0].securityContext.privileged" },
        { "capabilities-baseline", PodSecurityLevel.Baseline, "drop: [ALL]", "add: [CHOWN, SYS_ADMIN]", "spec.containers[0].securityContext.capabilities.add[1]" },
        { "host-path-volumes", PodSecurityLevel.Baseline, "configMap: {name: app}", "hostPath: {path: /etc}", "spec.volumes[0].hostPath" },
        { "host-ports", PodSecurityLevel.Baseline, "      image: registry.local/app:1\n", "      image: registry.local/app:1\n      ports: [{containerPort: 80, hostPort: 8080}]\n", "spec.containers[0].ports[0].hostPort" },
        { "apparmor", PodSecurityLevel.Baseline, "team: shop", "container.apparmor.security.beta.kubernetes.io/app: unconfined", "metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]" },
        { "apparmor", PodSecurityLevel.Baseline, "    runAsNonRoot: true\n", "    runAsNonRoot: true\n    appArmorProfile: {type: Unconfined}\n", "spec.securityContext.appArmorProfile.type" },
        { "selinux", PodSecurityLevel.Baseline, "        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        seLinuxOptions: {type: spc_t}\n", "spec.containers[0].securityContext.seLinuxOptions.type" },
        { "selinux", PodSecurityLevel.Baseline, "    runAsNonRoot: true\n", "    runAsNonRoot: true\n    seLinuxOptions: {user: system_u}\n", "spec.securityContext.seLinuxOptions.user" },
        { "proc-mount", PodSecurityLevel.Baseline, "        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        procMount: Unmasked\n", "spec.containers[0].securityContext.procMount" },
        { "seccomp-baseline", PodSecurityLevel.Baseline, "type: RuntimeDefault", "type: Unconfined", "spec.securityContext.seccompProfile.type" },
        { "sysctls", PodSecurityLevel.Baseline, "    runAsNonRoot: true\n", "    runAsNonRoot: true\n    sysctls: [{name: net.ipv4.tcp_rmem, value: '4096'}, {name: kernel.msgmax, value: '1'}]\n", "spec.securityContext.sysctls[1].name" },
        { "volume-types", PodSecurityLevel.Restricted, "configMap: {name: app}", "nfs: {server: nfs.local, path: /}", "spec.volumes[0].nfs" },
        { "privilege-escalation", PodSecurityLevel.Restricted, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "spec.containers[0].securityContext.allowPrivilegeEscalation" },
        { "privilege-escalation", PodSecurityLevel.Restricted, "        allowPrivilegeEscalation: false\n", "", "spec.containers[0].securityContext.allowPrivilegeEscalation" },
        { "run-as-non-root", PodSecurityLevel.Restricted, "    runAsNonRoot: true\n", "", "spec.containers[0].securityContext.runAsNonRoot" },
        { "run-as-non-root", PodSecurityLevel.Restricted, "runAsNonRoot: true", "runAsNonRoot: false", "spec.securityContext.runAsNonRoot" },
        { "run-as-user", PodSecurityLevel.Restricted, "        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        runAsUser: 0\n", "spec.containers[0].securityContext.runAsUser" },
        { "seccomp-restricted", PodSecurityLevel.Restricted, "    seccompProfile:\n      type: RuntimeDefault\n", "", "spec.containers[0].securityContext.seccompProfile.type" },
        { "capabilities-restricted", PodSecurityLevel.Restricted, "drop: [ALL]", "drop: [NET_RAW]", "spec.containers[0].securityContext.capabilities.drop" },
        { "capabilities-restricted", PodSecurityLevel.Restricted, "drop: [ALL]", "drop: [ALL]\n          add: [CHOWN]", "spec.containers[0].securityContext.capabilities.add[0]" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Each_rule_reports_the_offending_field_with_its_path_and_line(string rule, PodSecurityLevel level, string find, string replace, string path)
    {
        var yaml = Edit(find, replace);
        var violation = Assert.Single(Evaluate(yaml, level));
        Assert.Equal(rule, violation.Rule.Id);
        Assert.Equal(path, violation.FieldPath);
        // The line names the field itself, or for a missing required field the container (or pod) it is missing from.
        var line = yaml.Split('\n')[violation.Line - 1];
        var leaf = path.Split('.')[^1];
        var field = leaf.Contains('[', StringComparison.Ordinal) && !leaf.StartsWith("annotations", StringComparison.Ordinal) ? leaf[..leaf.IndexOf('[', StringComparison.Ordinal)] : leaf;
        Assert.True(line.Contains(field.Replace("annotations[", "", StringComparison.Ordinal).TrimEnd(']'), StringComparison.Ordinal) || line.Contains("- name: app", StringComparison.Ordinal),
            $"line {violation.Line} is '{line}', expected it to hold {path}");
        // A level below a rule's does not report it.
        if (level == PodSecurityLevel.Restricted)
        {
            Assert.Empty(Evaluate(yaml, PodSecurityLevel.Baseline));
        }
    }

    public static TheoryData<string, string> AllowedValues => new()
    {
        { "drop: [ALL]", "drop: [ALL]\n          add: [NET_BIND_SERVICE]" },
        { "    runAsNonRoot: true\n", "    runAsNonRoot: true\n    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '0'}, {name: net.ipv4.tcp_keepalive_time, value: '60'}]\n" },
        { "      image: registry.local/app:1\n", "      image: registry.local/app:1\n      ports: [{containerPort: 80, hostPort: 0}]\n" },
        { "type: RuntimeDefault", "type: Localhost" },
        { "team: shop", "container.apparmor.security.beta.kubernetes.io/app: localhost/custom" },
        { "        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        seLinuxOptions: {type: container_init_t, level: 's0:c1,c2'}\n        runAsUser: 1000\n        privileged: false\n" },
        // Set on the container instead of the pod: the container's own value counts.
        { "    runAsNonRoot: true\n", "" },
        { "configMap: {name: app}", "projected: {sources: []}" },
        // An explicit null is an absent field to the API server.
        { "team: shop", "team: shop\n  labels: null" },
    };

    [Theory]
    [MemberData(nameof(AllowedValues))]
    public void Allowed_values_pass_restricted(string find, string replace)
    {
        var yaml = Edit(find, replace);
        if (replace.Length == 0)
        {
            yaml = yaml.Replace("        allowPrivilegeEscalation: false\n", "        allowPrivilegeEscalation: false\n        runAsNonRoot: true\n", StringComparison.Ordinal);
        }
        Assert.Empty(Evaluate(yaml, PodSecurityLevel.Restricted));
    }

    [Fact]
    public void Init_and_ephemeral_containers_are_checked_and_windows_pods_skip_the_linux_only_rules()
    {
        var yaml = Edit("  containers:\n", "  initContainers:\n    - name: init\n      image: x\n      securityContext: {privileged: true}\n  containers:\n");
        var violations = Evaluate(yaml, PodSecurityLevel.Restricted);
        Assert.Contains(violations, v => v.FieldPath == "spec.initContainers[0].securityContext.privileged" && v.Line == 18);
        Assert.Contains(violations, v => v.FieldPath == "spec.initContainers[0].securityContext.allowPrivilegeEscalation");
        var windows = Edit("spec:\n", "spec:\n  os: {name: windows}\n").Replace("        allowPrivilegeEscalation: false\n", "", StringComparison.Ordinal);
        Assert.Empty(Evaluate(windows, PodSecurityLevel.Restricted));
    }

    [Fact]
    public void Workload_kinds_are_read_at_their_pod_template_and_other_kinds_are_listed_as_skipped()
    {
        using var dir = new TempDirectory("bulwark-pss");
        var template = string.Join("\n", CompliantPod.Split('\n')[3..].Select(l => "    " + l));
        dir.Write("apps/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata:\n" +
            template.Replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", StringComparison.Ordinal) +
            "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n");
        dir.Write("cron.yml", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n" +
            string.Join("\n", template.Split('\n').Select(l => "    " + l)).Replace("spec:\n", "spec:\n          hostIPC: true\n", StringComparison.Ordinal) + "\n");
        var scan = new ManifestScanner(Standards).Scan(dir.Path, PodSecurityLevel.Restricted);
        Assert.Equal(2, scan.Files.Count);
        Assert.Equal(["Deployment shop/web", "CronJob nightly"], scan.Workloads.Select(w => w.Describe).Order(StringComparer.Ordinal).Reverse());
        var deployment = Assert.Single(scan.Violations, v => v.Rule.Id == "privilege-escalation");
        Assert.Equal("spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", deployment.FieldPath);
        Assert.Equal(22, deployment.Line);
        var cron = Assert.Single(scan.Violations, v => v.Rule.Id == "host-namespaces");
        Assert.Equal("spec.jobTemplate.spec.template.spec.hostIPC", cron.FieldPath);
        Assert.Equal(new SkippedDocument(dir.Combine("apps/deploy.yaml"), 26, "Service"), Assert.Single(scan.Skipped));
    }

    [Fact]
    public void Malformed_yaml_and_missing_paths_are_input_errors_with_file_and_line()
    {
        using var dir = new TempDirectory("bulwark-pss");
        var bad = dir.Write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n");
        var error = Assert.Throws<PipelineException>(() => new ManifestScanner(Standards).Scan(bad, PodSecurityLevel.Baseline));
        Assert.StartsWith($"{bad}:", error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.Equal(PipelineFailure.Input, error.Failure);
        var noTemplate = dir.Write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n");
        Assert.Contains($"{noTemplate}:1: Deployment x has no pod template", Assert.Throws<PipelineException>(() => new ManifestScanner(Standards).Scan(noTemplate, PodSecurityLevel.Baseline)).Message);
        Assert.Throws<PipelineException>(() => new ManifestScanner(Standards).Scan(dir.Combine("missing"), PodSecurityLevel.Baseline));
    }

    [Fact]
    public void The_standards_file_refuses_unknown_keys_with_file_and_line()
    {
        var error = Assert.Throws<PipelineException>(() => PodSecurityStandards.Parse(
            "version: latest\nkubernetes: v1.32\ncontainer-lists: [containers]\nworkloads: {Pod: ''}\nrules:\n  - id: x\n    level: baseline\n    title: t\n    checks:\n      - {path: spec.hostPID, alowed: ['false']}\n", "standards.yaml"));
        Assert.StartsWith("standards.yaml:10: unknown key \"alowed\"", error.Message, StringComparison.Ordinal);
    }
}
