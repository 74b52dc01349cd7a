using Bulwark.Cni;
using Bulwark.Config;

namespace Bulwark.Tests.Cni;

public sealed class CniSelectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string[], string?, string?> Selections() => new()
    {
        // values, expected display (null: refused), expected error fragment
        { [], "canal", null },
        { ["canal"], "canal", null },
        { ["calico"], "calico", null },
        { ["cilium"], "cilium", null },
        { ["none"], "none", null },
        { ["multus,canal"], "multus,canal", null },
        { ["multus", "cilium"], "multus,cilium", null },
        { [" multus , none "], "multus,none", null },
        { ["multus"], null, "multus is not a primary CNI" },
        { ["canal,multus"], null, "only allowed as multus followed by the primary" },
        { ["canal", "calico"], null, "only allowed as multus followed by the primary" },
        { ["multus", "multus"], null, "multus given twice" },
        { ["multus", "canal", "calico"], null, "at most two values" },
        { ["flannel"], null, "unknown CNI \"flannel\"" },
        { ["cilum"], null, "did you mean 'cilium'?" },
        { ["multus", "weave"], null, "unknown CNI \"weave\"" },
    };

    [Theory]
    [MemberData(nameof(Selections))]
    public void Rke2_selection_rules(string[] values, string? display, string? error)
    {
        var selection = CniSelection.Parse(values, out var message);
        Assert.Equal(display, selection?.Display);
        if (error is null)
        {
            Assert.Null(message);
        }
        else
        {
            Assert.Contains(error, message);
        }
    }

    [Fact]
    public void Deployed_lists_multus_first_and_nothing_for_none()
    {
        Assert.Equal(["multus", "cilium"], CniSelection.Parse(["multus,cilium"], out _)!.Deployed);
        Assert.Empty(CniSelection.Parse(["none"], out _)!.Deployed);
        Assert.Equal(["multus"], CniSelection.Parse(["multus,none"], out _)!.Deployed);
    }

    public static TheoryData<string, string?, string?> ProfileMatrix() => new()
    {
        // config yaml, expected error fragment, expected warning fragment
        { "cni: canal\n", null, null },
        { "cni: calico\n", null, "calico's images are upstream builds, not FIPS-validated" },
        { "cni: calico\nfips-mode: off\n", null, null },
        { "cni: multus,cilium\n", null, "cilium's images are upstream builds" },
        { "cni: none\nprofile: cis-1.23\n", null, "CIS 5.3.1" },
        { "cni: none\n", null, null },
        { "cni: [multus]\n", "multus is not a primary CNI", null },
        { "cni: canal,calico,cilium\n", "at most two values", null },
    };

    [Theory]
    [MemberData(nameof(ProfileMatrix))]
    public void Config_validator_applies_cni_rules_with_file_and_line(string yaml, string? error, string? warning)
    {
        var file = _dir.Write("config.yaml", "token: t\n" + yaml);
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []) { Checks = Bulwark.Cli.ConfigChecks.All });
        if (error is null)
        {
            Assert.Empty(result.Errors);
            Assert.NotNull(result.Config);
        }
        else
        {
            var problem = Assert.Single(result.Errors);
            Assert.Contains(error, problem.Message);
            Assert.Equal($"{file}:2", problem.Where);
        }
        var cniWarnings = result.Warnings.Where(w => w.Key == "cni").ToList();
        if (warning is null)
        {
            Assert.Empty(cniWarnings);
        }
        else
        {
            Assert.Contains(cniWarnings, w => w.Message.Contains(warning, StringComparison.Ordinal) && w.Where == $"{file}:2");
        }
    }

    [Fact]
    public void Flag_and_environment_values_are_split_on_commas()
    {
        var env = new Dictionary<string, string> { ["BULWARK_CNI"] = "multus,calico" };
        var result = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, null, env, []) { Checks = Bulwark.Cli.ConfigChecks.All });
        Assert.Equal("multus,calico", CniSelection.From(result.Config!).Display);
        var flags = new[] { new RawSetting("cni", false, ["multus,cilium"], true, ConfigSource.Flag("--cni")) };
        var fromFlag = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, null, new Dictionary<string, string>(), flags) { Checks = Bulwark.Cli.ConfigChecks.All });
        Assert.Equal("multus,cilium", CniSelection.From(fromFlag.Config!).Display);
    }
}
