using Bulwark.ControlPlane;
using Bulwark.Runtime;
using Bulwark.Tests.ControlPlane;
using Tomlyn.Model;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// What Bulwark renders for containerd, checked against containerd 1.6.20's config contract
/// (policies/containerd/v1.6.20.yaml), and the kubelet's side of the runtime (socket, cgroup driver) checked against
/// the containerd config the same node renders.
/// </summary>
public sealed class ContainerdConfigContractTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    private static readonly Dictionary<string, RegistryAuth> Auths = new(StringComparer.Ordinal)
    {
        ["registry.example.test:5000"] = new RegistryAuth("puller", "s3cret", null, null),
        ["token.example.test"] = new RegistryAuth(null, null, null, "identity-token"),
    };

    [Fact]
    public void The_rendered_config_with_registry_auth_uses_only_keys_and_types_containerd_1_6_20_reads()
    {
        var settings = ContainerdSettings.From(_node.Config());

        var toml = TomlText.Parse(ContainerdConfig.Render(settings, Auths));

        Assert.Empty(ContainerdConfigContract.BuiltIn.Value.Check(toml));
        var registry = (TomlTable)((TomlTable)((TomlTable)toml["plugins"])[ContainerdConfig.CriPlugin])["registry"];
        Assert.Equal(settings.Paths.CertsDir, registry["config_path"]);
        Assert.False(registry.ContainsKey("mirrors"));
        Assert.Empty((TomlArray)toml["disabled_plugins"]);
    }

    [Fact]
    public void The_contract_refuses_keys_that_disable_CRI_unknown_keys_and_wrong_types()
    {
        var toml = TomlText.Parse(ContainerdConfig.Render(ContainerdSettings.From(_node.Config()), Auths));
        var cri = (TomlTable)((TomlTable)toml["plugins"])[ContainerdConfig.CriPlugin];
        var registry = (TomlTable)cri["registry"];
        registry["mirrors"] = new TomlTable { ["docker.io"] = new TomlTable { ["endpoint"] = new TomlArray { "https://m.test" } } };
        ((TomlTable)((TomlTable)registry["configs"])["token.example.test"])["tls"] = new TomlTable { ["ca_file"] = "/ca.crt" };
        cri["sandbox_imge"] = "typo";
        cri["enable_selinux"] = "true";

        var problems = ContainerdConfigContract.BuiltIn.Value.Check(toml);

        Assert.Contains(problems, p => p.StartsWith("plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.", StringComparison.Ordinal) && p.Contains("disables CRI"));
        Assert.Contains(problems, p => p.Contains("configs.\"token.example.test\".tls.ca_file", StringComparison.Ordinal) && p.Contains("disables CRI"));
        Assert.Contains(problems, p => p.Contains("sandbox_imge: not a key containerd 1.6.20 reads", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("enable_selinux: containerd 1.6.20 reads a boolean here, not a string", StringComparison.Ordinal));
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public async Task The_kubelet_config_names_the_socket_and_the_cgroup_driver_of_the_containerd_config_rendered_for_the_same_node()
    {
        var config = _node.Config("profile: cis-1.23");
        var settings = ContainerdSettings.From(config);
        var containerd = TomlText.Parse(ContainerdConfig.Render(settings, new Dictionary<string, RegistryAuth>()));
        var result = await _node.RenderAsync(config);

        var kubelet = ComponentConfig.Parse(File.ReadAllText(result.Paths.KubeletConfig), result.Paths.KubeletConfig);

        var grpc = (TomlTable)containerd["grpc"];
        Assert.Equal("unix://" + (string)grpc["address"], kubelet.Scalar("containerRuntimeEndpoint"));
        var runc = (TomlTable)((TomlTable)((TomlTable)((TomlTable)((TomlTable)((TomlTable)containerd["plugins"])[ContainerdConfig.CriPlugin])["containerd"])["runtimes"])["runc"])["options"];
        Assert.Equal((bool)runc["SystemdCgroup"] ? "systemd" : "cgroupfs", kubelet.Scalar("cgroupDriver"));
        Assert.Equal(ContainerdSettings.HostUsesSystemd(), (bool)runc["SystemdCgroup"]);
    }
}
