using System.Text.RegularExpressions;
using System.Xml.Linq;
using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Tests.ControlPlane;

/// <summary>Data-driven: every control annotated in policies/components/ holds in what is rendered, and breaking it is refused under CIS.</summary>
public sealed partial class ControlsTests : IDisposable
{
    private static readonly ComponentSet Specs = ComponentSpecLoader.LoadAll(EmbeddedData.BuiltIn);
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    /// <summary>(component, argument or kubelet flag) for every checked entry that carries a violation example.</summary>
    public static TheoryData<string, string> Violations() => ViolationData(includeCisOnly: true);

    /// <summary>The same, for the settings that apply without a profile (CIS-only ones are not rendered there, so nothing breaks).</summary>
    public static TheoryData<string, string> ViolationsWithoutProfile() => ViolationData(includeCisOnly: false);

    private static TheoryData<string, string> ViolationData(bool includeCisOnly)
    {
        var data = new TheoryData<string, string>();
        var defaults = new RenderContext(Bulwark.Config.EffectiveConfig.Defaults(), "/etc/bulwark");
        foreach (var spec in Specs.All)
        {
            foreach (var entry in spec.Checked.Where(e => e.Violation is not null && (includeCisOnly || e.IsGuard || defaults.Applies(e.CisOnly, e.When, ""))).DistinctBy(e => e.Name))
            {
                data.Add(spec.Name, entry.Name);
            }
        }
        return data;
    }

    [Fact]
    public async Task Every_controlled_argument_and_kubelet_field_satisfies_its_check_as_rendered_under_cis()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");
        var context = new RenderContext(_node.Config("profile: cis-1.23"), _node.EtcDir);
        var checkedCount = 0;
        foreach (var spec in Specs.All)
        {
            var args = result.Components[spec.Name];
            foreach (var arg in spec.Args.Concat(spec.Guards).Where(a => a.Check is not null))
            {
                var value = args.Get(arg.Name);
                if (!arg.IsGuard)
                {
                    Assert.True(value is not null, $"{spec.Name}: --{arg.Name} ({string.Join(", ", arg.Controls)}) is not rendered");
                }
                var failure = ArgCheckEvaluator.Evaluate(arg.Check!, value, context, spec.SourcePath);
                Assert.True(failure is null, $"{spec.Name}: --{arg.Name}={value} fails its own check: {failure} ({string.Join(", ", arg.Controls)})");
                checkedCount++;
            }
            foreach (var field in spec.Config.Where(f => f.Check is not null))
            {
                var path = context.Expand(spec.ConfigFile!.PathTemplate, spec.SourcePath);
                var value = ComponentConfig.Parse(File.ReadAllText(path), path).Scalar(field.Path);
                Assert.True(value is not null, $"{spec.Name} config {field.Path} is not rendered");
                var failure = ArgCheckEvaluator.Evaluate(field.Check!, value, context, spec.SourcePath);
                Assert.True(failure is null, $"{spec.Name} config {field.Path}={value} fails its check: {failure}");
                checkedCount++;
            }
        }
        // Guard against a vacuous pass: the data holds dozens of checked settings.
        Assert.True(checkedCount >= 60, $"only {checkedCount} checked settings found");
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task A_user_argument_that_breaks_a_control_is_refused_under_cis_naming_the_control_and_nothing_is_written(string component, string name)
    {
        var entry = Specs[component].Checked.First(e => e.Name == name && e.Violation is not null);
        var key = ArgumentMerger.UserKeyFor(component).Name;
        var yaml = $"profile: cis-1.23\n{key}:\n  - \"{name}={entry.Violation}\"";
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => _node.RenderAsync(yaml));
        Assert.Contains($"{name}={entry.Violation}", error.Message);
        Assert.Contains(entry.Controls[0], error.Message);
        Assert.Contains(key, error.Message);
        Assert.StartsWith(Path.Combine(_node.EtcDir, "config.yaml") + ":", error.Message);
        Assert.False(Directory.Exists(_node.DataDir), "a refused configuration must not write anything");
    }

    [Theory]
    [MemberData(nameof(ViolationsWithoutProfile))]
    public async Task Without_a_profile_the_same_argument_is_applied_with_a_warning_naming_the_control(string component, string name)
    {
        var entry = Specs[component].Checked.First(e => e.Name == name && e.Violation is not null);
        var key = ArgumentMerger.UserKeyFor(component).Name;
        var result = await _node.RenderAsync($"{key}:\n  - \"{name}={entry.Violation}\"");
        var warning = Assert.Single(result.Warnings, w => w.Contains($"\"{name}={entry.Violation}\"", StringComparison.Ordinal));
        Assert.Contains(entry.Controls[0], warning);
        var args = result.Components[component];
        // A deprecated config-backed flag goes into the component's config file instead of its argv.
        var field = Bulwark.ControlPlane.KubernetesContract.BuiltIn[component].Find(name)?.ConfigField;
        var applied = args.Get(name) ?? (args.ConfigOverrides.LastOrDefault(o => o.Key == field).Value switch
        {
            YamlDotNet.RepresentationModel.YamlScalarNode s => s.Value,
            YamlDotNet.RepresentationModel.YamlSequenceNode seq => string.Join(',', seq.Children.Select(c => ((YamlDotNet.RepresentationModel.YamlScalarNode)c).Value)),
            _ => null,
        });
        Assert.Equal(entry.Violation, applied);
    }

    [Fact]
    public void Every_hardened_setting_names_a_control_and_every_control_id_is_well_formed()
    {
        foreach (var spec in Specs.All)
        {
            foreach (var arg in spec.Args.Where(a => a.Check is not null || a.CisOnly).Concat(spec.Guards))
            {
                Assert.True(arg.Controls.Count > 0, $"{spec.SourcePath}:{arg.Line}: {arg.Name} is hardened but names no control");
            }
            foreach (var field in spec.Config.Where(f => f.Check is not null || f.CisOnly))
            {
                Assert.True(field.Controls.Count > 0, $"{spec.SourcePath}:{field.Line}: {field.Path} is hardened but names no control");
            }
            foreach (var id in spec.Args.Concat(spec.Guards).SelectMany(a => a.Controls).Concat(spec.Config.SelectMany(c => c.Controls)))
            {
                Assert.Matches(ControlId(), id);
            }
        }
    }

    [Fact]
    public void Every_stig_id_in_the_data_is_a_real_rule_of_the_kubernetes_or_the_rke2_stig()
    {
        var groups = new[] { "stig/U_Kubernetes_STIG_V1R9_Manual-xccdf.xml", "stig/U_RGS_RKE2_STIG_V1R5_Manual-xccdf.xml" }
            .SelectMany(f => XDocument.Load(RepoPaths.Fixture(f)).Descendants().Where(e => e.Name.LocalName == "Group").Select(g => (string?)g.Attribute("id")))
            .ToHashSet();
        var used = Specs.All.SelectMany(s => s.Args.Concat(s.Guards).SelectMany(a => a.Controls).Concat(s.Config.SelectMany(c => c.Controls)))
            .Concat(Regex.Matches(EmbeddedData.BuiltIn.ReadText(PodSecurityConfig.DataFile) + EmbeddedData.BuiltIn.ReadText(AuditPolicy.DataFile), @"V-\d+").Select(m => m.Value))
            .Where(id => id.StartsWith("V-", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(used.Count >= 40, $"only {used.Count} STIG ids used");
        Assert.All(used, id => Assert.Contains(id, groups));
    }

    [Fact]
    public async Task The_profile_adds_exactly_the_cis_only_settings()
    {
        using var other = new ControlPlaneFixture();
        var plain = await _node.RenderAsync();
        var cis = await other.RenderAsync("profile: cis-1.23");
        foreach (var spec in Specs.All)
        {
            var plainArgs = plain.Components[spec.Name].Args.Select(a => a.Key).ToHashSet();
            var cisOnly = cis.Components[spec.Name].Args.Select(a => a.Key).Where(k => !plainArgs.Contains(k)).Order().ToList();
            Assert.Equal(spec.Args.Where(a => a.CisOnly).Select(a => a.Name).Order(), cisOnly);
        }
        Assert.Equal(["request-timeout", "service-account-extend-token-expiration"],
            cis.Components["kube-apiserver"].Args.Select(a => a.Key).Except(plain.Components["kube-apiserver"].Args.Select(a => a.Key)).Order());
        var plainKubelet = ComponentConfig.Parse(File.ReadAllText(plain.Paths.KubeletConfig), "plain");
        var cisKubelet = ComponentConfig.Parse(File.ReadAllText(cis.Paths.KubeletConfig), "cis");
        Assert.Null(plainKubelet.Scalar("protectKernelDefaults"));
        Assert.Equal("true", cisKubelet.Scalar("protectKernelDefaults"));
        Assert.Equal("privileged", PodSecurityConfig.Parse(File.ReadAllText(plain.Paths.DefaultPodSecurityConfig), "p").Level("enforce"));
        Assert.Equal("restricted", PodSecurityConfig.Parse(File.ReadAllText(cis.Paths.DefaultPodSecurityConfig), "c").Level("enforce"));
        Assert.False(File.Exists(plain.Paths.NetworkPolicies));
        Assert.True(File.Exists(cis.Paths.NetworkPolicies));
        Assert.False(File.Exists(plain.Paths.ServiceAccounts));
        Assert.True(File.Exists(cis.Paths.ServiceAccounts));
    }

    [Fact]
    public async Task Protect_kernel_defaults_reaches_the_kubelet_without_a_profile_when_asked_for()
    {
        var result = await _node.RenderAsync("protect-kernel-defaults: true");
        Assert.Equal("true", ComponentConfig.Parse(File.ReadAllText(result.Paths.KubeletConfig), "k").Scalar("protectKernelDefaults"));
    }

    [Fact]
    public async Task User_arguments_override_in_place_and_new_ones_are_appended()
    {
        var result = await _node.RenderAsync("""
            profile: cis-1.23
            kube-apiserver-arg:
              - audit-log-maxage=90
              - v=2
            kube-scheduler-arg: [tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
            """);
        var api = result.Components["kube-apiserver"];
        var names = api.Args.Select(a => a.Key).ToList();
        Assert.Equal("90", api.Get("audit-log-maxage"));
        Assert.Equal(names.IndexOf("audit-log-maxbackup") - 1, names.IndexOf("audit-log-maxage"));
        Assert.Equal("v", names[^1]);
        Assert.Equal(1, names.Count(n => n == "audit-log-maxage"));
        Assert.Equal("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", result.Components["kube-scheduler"].Get("tls-cipher-suites"));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public async Task Several_breaking_arguments_are_all_reported_at_once()
    {
        var error = await Assert.ThrowsAsync<ControlPlaneConfigException>(() => _node.RenderAsync("""
            profile: cis
            kube-apiserver-arg: [anonymous-auth=true, profiling=true, authorization-mode=AlwaysAllow]
            kubelet-arg: [read-only-port=10255]
            """));
        Assert.Equal(4, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("CIS-1.2.1", StringComparison.Ordinal) && p.Contains("V-242390", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("CIS-1.2.7", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("CIS-4.2.4", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^(CIS-\d+(\.\d+)+|V-\d{6})$")]
    private static partial Regex ControlId();
}
