using System.Text.Json.Nodes;
using Bulwark.ControlPlane;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// The EncryptionConfiguration the real renderer writes for secrets-encryption-provider: kms, checked against
/// kube-apiserver v1.32's rules kept as data (kube-apiserver is not installable here: a boundary test).
/// </summary>
public sealed class KmsEncryptionConfigTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    private static JsonArray Providers(string path) => JsonNode.Parse(File.ReadAllText(path))!["resources"]![0]!["providers"]!.AsArray();

    [Fact]
    public async Task Boundary_kube_apiserver_v1_32_contract_accepts_the_rendered_kms_v2_config_with_the_static_key_after_it()
    {
        var result = await _node.RenderAsync("secrets-encryption-provider: kms");
        var path = result.Paths.EncryptionConfig;
        var json = File.ReadAllText(path);
        var socket = _node.Config().Layout.KmsSocket;

        Assert.Empty(EncryptionConfigurationContract.BuiltIn.Check(json));
        var providers = Providers(path);
        Assert.Equal("v2", (string?)providers[0]!["kms"]!["apiVersion"]);
        Assert.Equal("bulwark-kms", (string?)providers[0]!["kms"]!["name"]);
        Assert.Equal("unix://" + socket, (string?)providers[0]!["kms"]!["endpoint"]);
        Assert.Equal("3s", (string?)providers[0]!["kms"]!["timeout"]);
        Assert.NotNull(providers[1]!["aescbc"]);
        Assert.NotNull(providers[2]!["identity"]);
        // kube-apiserver dials the plugin from inside its static pod: the socket is mounted (hostPath type Socket).
        var pod = StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest("kube-apiserver")), "kube-apiserver");
        Assert.Contains(pod.Mounts, m => m.Path == socket && m.Type == "Socket" && m.ReadOnly);
    }

    [Fact]
    public async Task The_default_provider_stays_aescbc_and_moving_to_kms_keeps_the_same_static_key_readable()
    {
        var before = await _node.RenderAsync("");
        var aescbc = Providers(before.Paths.EncryptionConfig);
        Assert.NotNull(aescbc[0]!["aescbc"]);
        Assert.DoesNotContain(aescbc, p => p!["kms"] is not null);
        var keyName = (string?)aescbc[0]!["aescbc"]!["keys"]![0]!["name"];

        await _node.RenderAsync("secrets-encryption-provider: kms");
        var kms = Providers(before.Paths.EncryptionConfig);
        Assert.NotNull(kms[0]!["kms"]);
        Assert.Equal(keyName, (string?)kms[1]!["aescbc"]!["keys"]![0]!["name"]);

        // Back to aescbc: the kms provider stays (after the keys) until reencrypt re-writes every Secret.
        await _node.RenderAsync("");
        var back = Providers(before.Paths.EncryptionConfig);
        Assert.NotNull(back[0]!["aescbc"]);
        Assert.NotNull(back[1]!["kms"]);
        Assert.Empty(EncryptionConfigurationContract.BuiltIn.Check(File.ReadAllText(before.Paths.EncryptionConfig)));
    }

    [Theory]
    [InlineData("\"apiVersion\": \"v2\"", "\"apiVersion\": \"v1\"", "apiVersion")]
    [InlineData("\"endpoint\": \"unix://", "\"endpoint\": \"tcp://", "endpoint")]
    [InlineData("\"name\": \"bulwark-kms\"", "\"name\": \"bulwark:kms\"", "name")]
    [InlineData("\"timeout\": \"3s\"", "\"timeout\": \"0s\"", "timeout")]
    [InlineData("\"timeout\": \"3s\"", "\"timeout\": \"3s\", \"cachesize\": 1000", "cachesize")]
    [InlineData("\"timeout\": \"3s\"", "\"timeout\": \"3s\", \"endpiont\": \"x\"", "endpiont: unknown field")]
    [InlineData("\"kind\": \"EncryptionConfiguration\"", "\"kind\": \"EncryptionConfig\"", "kind")]
    public async Task Boundary_kube_apiserver_v1_32_contract_refuses_what_kube_apiserver_refuses(string from, string to, string problem)
    {
        var result = await _node.RenderAsync("secrets-encryption-provider: kms");
        var json = File.ReadAllText(result.Paths.EncryptionConfig);
        Assert.Contains(from, json);

        var problems = EncryptionConfigurationContract.BuiltIn.Check(json.Replace(from, to, StringComparison.Ordinal));

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void The_plugin_limits_in_the_contract_hold_for_the_plugin_envelope()
    {
        var contract = EncryptionConfigurationContract.BuiltIn;
        Assert.Equal(Kms.KmsEnvelope.MaxCiphertext, contract.MaxCiphertextBytes);
        Assert.Contains(Kms.KmsPluginService.ApiVersion, contract.StatusVersions);
        Assert.Equal(Kms.KmsPluginService.Healthy, contract.HealthzOk);
        Assert.True(Kms.KmsEnvelope.Annotations.Sum(a => a.Key.Length + a.Value.Length) < contract.MaxAnnotationsBytes);
        Assert.True("kek-".Length + 32 <= contract.MaxKeyIdBytes);
    }
}
