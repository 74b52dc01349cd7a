using Bulwark.Runtime;
using Bulwark.Tests.Airgap;

namespace Bulwark.Tests.Runtime;

/// <summary>
/// containerd 1.6.20 started by Bulwark with its rendered config pulls through CRI PullImage from a real
/// docker-registry (TLS from a test CA, htpasswd auth), configured only through registries.yaml: the mapping to
/// certs.d/&lt;host&gt;/hosts.toml and config.toml auth is what makes the pull work.
/// </summary>
public sealed class RegistryPullTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Containerd_pulls_through_CRI_from_a_TLS_htpasswd_registry_through_a_mirror_and_directly_configured_only_by_registries_yaml()
    {
        using var node = new RuntimeTestNode();
        using var registry = await TestRegistry.StartAsync();
        var layout = node.Temp.Combine("layout");
        TestImages.Write(layout, "1.0");
        var repository = "team/app-" + Path.GetFileName(node.Temp.Path).Replace('.', '-').ToLowerInvariant();
        await registry.PushAsync(layout, "1.0", repository + ":1.0");
        // upstream.bulwark.test does not resolve: an image pulled under its name can only have come through the mirror.
        node.Temp.Write("etc/registries.yaml", $"""
            mirrors:
              upstream.bulwark.test:
                endpoint: ["https://{registry.Host}"]
            configs:
              "{registry.Host}":
                auth:
                  username: {TestRegistry.User}
                  password: {TestRegistry.Password}
                tls:
                  ca_file: {registry.CaFile}
            """);
        var settings = ContainerdSettings.From(node.Config());
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: Ct);
        using var cri = new CriClient(settings.Paths.Socket);

        var throughMirror = await cri.PullAsync($"upstream.bulwark.test/{repository}:1.0", Ct);
        var direct = await cri.PullAsync($"{registry.Host}/{repository}:1.0", Ct);

        Assert.StartsWith("sha256:", throughMirror);
        Assert.Equal(throughMirror, direct);
        var names = await cri.ImageNamesAsync(Ct);
        Assert.Contains($"upstream.bulwark.test/{repository}:1.0", names);
        Assert.Contains($"{registry.Host}/{repository}:1.0", names);
        // The credentials live only in config.toml (0600), never in hosts.toml or containerd's log.
        Assert.Contains(TestRegistry.Password, File.ReadAllText(settings.Paths.ConfigFile));
        foreach (var hosts in Directory.EnumerateFiles(settings.Paths.CertsDir, "hosts.toml", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(TestRegistry.Password, File.ReadAllText(hosts));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(hosts));
        }
        Assert.DoesNotContain(TestRegistry.Password, File.ReadAllText(settings.Paths.LogFile));
    }

    [Fact]
    public async Task With_a_wrong_password_in_registries_yaml_the_same_pull_is_refused_by_the_registry_as_unauthorized()
    {
        using var node = new RuntimeTestNode();
        using var registry = await TestRegistry.StartAsync();
        var layout = node.Temp.Combine("layout");
        TestImages.Write(layout, "1.0");
        await registry.PushAsync(layout, "1.0", "team/app:1.0");
        node.Temp.Write("etc/registries.yaml", $"""
            configs:
              "{registry.Host}":
                auth:
                  username: {TestRegistry.User}
                  password: not-the-password
                tls:
                  ca_file: {registry.CaFile}
            """);
        var settings = ContainerdSettings.From(node.Config());
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: Ct);
        using var cri = new CriClient(settings.Paths.Socket);

        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => cri.PullAsync($"{registry.Host}/team/app:1.0", Ct));

        Assert.True(refused.Status.Detail.Contains("401 Unauthorized", StringComparison.Ordinal), refused.Status.Detail);
        Assert.DoesNotContain("x509", refused.Status.Detail);
    }

    [Fact]
    public async Task The_config_Bulwark_writes_keeps_to_the_containerd_contract_and_a_real_containerd_serves_CRI_RuntimeReady_from_it()
    {
        using var node = new RuntimeTestNode();
        node.Temp.Write("etc/registries.yaml", """
            configs:
              "registry.example.test:5000":
                auth: {username: puller, password: s3cret-value}
            """);
        var settings = ContainerdSettings.From(node.Config());
        await using var runtime = await ContainerdRuntime.StartAsync(settings, cancellationToken: Ct);
        using var cri = new CriClient(settings.Paths.Socket);

        var written = TomlText.Parse(File.ReadAllText(settings.Paths.ConfigFile));
        var status = await cri.StatusAsync(Ct);

        Assert.Empty(ContainerdConfigContract.BuiltIn.Value.Check(written));
        Assert.Contains(status, c => c.Type == "RuntimeReady" && c.Status);
        Assert.StartsWith("containerd", await cri.VersionAsync(Ct));
    }
}
