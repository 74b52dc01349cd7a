using Bulwark.ControlPlane;
using Bulwark.Kube;

namespace Bulwark.Tests.ControlPlane;

public sealed class RenderedFilesTests : IDisposable
{
    private readonly ControlPlaneFixture _node = new();

    public void Dispose() => _node.Dispose();

    [Fact]
    public async Task Cis_render_writes_every_file_of_the_layout_with_mode_0600_in_0700_folders()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");
        var data = _node.DataDir;
        string[] expected =
        [
            "agent/pod-manifests/kube-apiserver.yaml", "agent/pod-manifests/kube-controller-manager.yaml",
            "agent/pod-manifests/kube-scheduler.yaml", "agent/pod-manifests/kube-proxy.yaml",
            "agent/etc/kubelet-config.yaml", "agent/etc/kubelet.args", "agent/kubelet.kubeconfig", "agent/kubeproxy.kubeconfig",
            "server/cred/encryption-config.json", "server/cred/admin.kubeconfig", "server/cred/controller.kubeconfig",
            "server/cred/scheduler.kubeconfig", "server/cred/supervisor.kubeconfig", "server/cred/api-server.kubeconfig",
            "server/manifests/bulwark-network-policies.yaml", "server/manifests/bulwark-service-accounts.yaml",
        ];
        foreach (var relative in expected)
        {
            var path = Path.Combine(data, relative);
            Assert.True(File.Exists(path), $"{relative} was not written");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        foreach (var etcFile in new[] { "bulwark-pss.yaml", "audit-policy.yaml", "bulwark.yaml" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_node.EtcDir, etcFile)));
        }
        foreach (var dir in new[] { "server/cred", "server/manifests", "agent/pod-manifests", "agent/etc", "agent/logs" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(data, dir)));
        }
        Assert.All(result.Files, f => Assert.Equal(FileChange.Written, f.Change));
        Assert.DoesNotContain(Directory.GetFiles(data, "*.tmp", SearchOption.AllDirectories), _ => true);
    }

    [Fact]
    public async Task A_second_render_rewrites_nothing_and_keeps_timestamps()
    {
        var config = _node.Config("profile: cis-1.23");
        var first = await _node.RenderAsync(config);
        var stamps = first.Files.ToDictionary(f => f.Path, f => File.GetLastWriteTimeUtc(f.Path));
        var second = await _node.RenderAsync(config);
        Assert.All(second.Files, f => Assert.Equal(FileChange.Unchanged, f.Change));
        Assert.All(second.Files, f => Assert.Equal(stamps[f.Path], File.GetLastWriteTimeUtc(f.Path)));
        Assert.Equal(first.Files.Select(f => f.Path), second.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task Static_pods_round_trip_through_the_typed_model_and_have_the_required_shape()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");
        foreach (var name in new[] { "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy" })
        {
            var path = result.Paths.PodManifest(name);
            var text = File.ReadAllText(path);
            var pod = StaticPod.Parse(text, path);
            Assert.Equal(text, pod.ToYaml());
            Assert.Equal(name, pod.Name);
            Assert.Equal("kube-system", pod.Namespace);
            Assert.Equal(name, pod.Component);
            Assert.Equal(name == "kube-proxy" ? "node" : "control-plane", pod.Tier);
            Assert.Contains(pod.PriorityClassName, new[] { "system-node-critical", "system-cluster-critical" });
            Assert.True(pod.HostNetwork);
            Assert.Equal([name], pod.Command);
            Assert.Equal(result.Components[name].Argv, pod.Args);
            Assert.All(pod.Args, a => Assert.Matches("^--[a-z0-9-]+=", a));
            Assert.NotNull(pod.Liveness);
            Assert.NotNull(pod.Startup);
            Assert.Matches("^[0-9a-f]{64}$", Assert.Single(pod.Env, e => e.Key == StaticPod.HashVariable).Value);
        }
    }

    [Fact]
    public async Task Static_pods_mount_exactly_the_files_their_arguments_config_files_and_kubeconfigs_reference_read_only()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");
        foreach (var (name, args) in result.Components.Where(c => c.Key is not ("kubelet" or "etcd")))
        {
            var pod = StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest(name)), name);
            var files = args.Spec.Args.Where(a => a.Mount == MountKind.File).Select(a => args.Get(a.Name)).OfType<string>().ToList();
            // A component config file names files too (KubeSchedulerConfiguration clientConnection.kubeconfig).
            if (args.Spec.ConfigFile is not null)
            {
                var config = ComponentConfig.Parse(File.ReadAllText(args.Get("config")!), "config");
                files.AddRange(args.Spec.Config.Where(f => f.Mount == MountKind.File).Select(f => config.Scalar(f.Path)!));
            }
            // A kubeconfig is read with the CA, certificate and key it names.
            foreach (var kubeconfig in files.Where(f => f.EndsWith(".kubeconfig", StringComparison.Ordinal)).ToList())
            {
                var parsed = Kubeconfig.Parse(File.ReadAllText(kubeconfig), kubeconfig);
                files.AddRange(new[] { parsed.CertificateAuthority?.Path, parsed.ClientCertificate?.Path, parsed.ClientKey?.Path }.OfType<string>());
            }
            var referenced = files
                .Concat((args.Spec.Probes?.Mounts ?? []).Select(m => m.Replace("{tls}", result.Paths.Tls, StringComparison.Ordinal)))
                .Distinct().Order(StringComparer.Ordinal);
            Assert.Equal(referenced, pod.Mounts.Where(m => m.Type == "File").Select(m => m.Path).Order(StringComparer.Ordinal));
            Assert.All(pod.Mounts.Where(m => m.Type == "File"), m => Assert.True(m.ReadOnly, $"{name}: {m.Path} must be read-only"));
            // Every path-valued argument is mounted: nothing the component reads is missing from the pod.
            foreach (var value in args.Args.Select(a => a.Value).Where(v => v.StartsWith(_node.Dir.Path, StringComparison.Ordinal)))
            {
                Assert.Contains(pod.Mounts, m => value == m.Path || value.StartsWith(m.Path + "/", StringComparison.Ordinal));
            }
        }
        var apiserver = StaticPod.Parse(File.ReadAllText(result.Paths.PodManifest("kube-apiserver")), "kube-apiserver");
        var logs = Assert.Single(apiserver.Mounts, m => !m.ReadOnly);
        Assert.Equal(result.Paths.ServerLogs, logs.Path);
    }

    [Fact]
    public async Task A_changed_certificate_changes_the_pod_hash_so_the_pod_restarts()
    {
        var config = _node.Config("profile: cis-1.23");
        var before = await _node.RenderAsync(config);
        var ca = Path.Combine(before.Paths.Tls, "client-ca.crt");
        Directory.CreateDirectory(before.Paths.Tls);
        File.WriteAllText(ca, "-----BEGIN CERTIFICATE-----\nnew\n-----END CERTIFICATE-----\n");
        var hashBefore = StaticPod.Parse(File.ReadAllText(before.Paths.PodManifest("kube-apiserver")), "a").Env[0].Value;
        var after = await _node.RenderAsync(config);
        var hashAfter = StaticPod.Parse(File.ReadAllText(after.Paths.PodManifest("kube-apiserver")), "a").Env[0].Value;
        Assert.NotEqual(hashBefore, hashAfter);
        Assert.Contains(after.Files, f => f.Path == after.Paths.PodManifest("kube-apiserver") && f.Change == FileChange.Written);
        // The scheduler does not mount client-ca.crt: its manifest is untouched.
        Assert.Contains(after.Files, f => f.Path == after.Paths.PodManifest("kube-scheduler") && f.Change == FileChange.Unchanged);
    }

    [Fact]
    public async Task Kubelet_config_round_trips_and_has_the_kubelet_apiVersion_and_kind()
    {
        var result = await _node.RenderAsync("profile: cis-1.23");
        var text = File.ReadAllText(result.Paths.KubeletConfig);
        var config = ComponentConfig.Parse(text, result.Paths.KubeletConfig);
        Assert.Equal(text, config.ToYaml());
        Assert.Equal("kubelet.config.k8s.io/v1beta1", config.ApiVersion);
        Assert.Equal("KubeletConfiguration", config.Kind);
        Assert.Equal(string.Join(',', TlsSettings.Fips.CipherSuites), config.Scalar("tlsCipherSuites"));
        Assert.Equal("true", config.Scalar("seccompDefault"));
        Assert.Null(config.Scalar("staticPodPath")); // process mode: the kubelet must not start the components a second time
        Assert.IsType<YamlDotNet.RepresentationModel.YamlSequenceNode>(config["clusterDNS"]);
        Assert.Equal(result.Components["kubelet"].Argv, File.ReadAllLines(result.Paths.KubeletArgs));
        Assert.Contains($"--config={result.Paths.KubeletConfig}", File.ReadAllLines(result.Paths.KubeletArgs));
    }

    [Fact]
    public async Task In_static_pod_mode_the_kubelet_watches_the_pod_manifests()
    {
        var config = _node.Config("profile: cis-1.23");
        var context = new RenderContext(config, _node.EtcDir, kubeletRunsStaticPods: true);
        var result = await new ControlPlaneRenderer().RenderAsync(context, null, TestContext.Current.CancellationToken);
        var kubelet = ComponentConfig.Parse(File.ReadAllText(result.Paths.KubeletConfig), "k");
        Assert.Equal(result.Paths.PodManifests, kubelet.Scalar("staticPodPath"));
        Assert.True(result.KubeletRunsStaticPods);
        Assert.Equal(["kubelet"], new ComponentLauncher(result, "/nonexistent").Components.Select(c => c.Spec.Name));
    }

    [Fact]
    public async Task Kubeconfigs_reference_the_pki_paths_and_the_admin_copy_embeds_them_with_write_kubeconfig_mode()
    {
        var config = _node.Config("write-kubeconfig-mode: \"0640\"");
        var tls = Path.Combine(_node.DataDir, "server", "tls");
        Directory.CreateDirectory(tls);
        File.WriteAllText(Path.Combine(tls, "server-ca.crt"), "CA");
        File.WriteAllText(Path.Combine(tls, "client-admin.crt"), "CERT");
        File.WriteAllText(Path.Combine(tls, "client-admin.key"), "KEY");
        var result = await _node.RenderAsync(config);
        var controllerPath = Path.Combine(result.Paths.Cred, "controller.kubeconfig");
        var controllerText = File.ReadAllText(controllerPath);
        var controller = Kubeconfig.Parse(controllerText, controllerPath);
        Assert.Equal(controllerText, controller.ToYaml());
        Assert.Equal("https://127.0.0.1:6443", controller.Server);
        Assert.Equal(Path.Combine(tls, "client-controller.crt"), controller.ClientCertificate?.Path);
        Assert.Equal(Path.Combine(tls, "server-ca.crt"), controller.CertificateAuthority?.Path);

        var adminPath = Path.Combine(_node.EtcDir, "bulwark.yaml");
        var admin = Kubeconfig.Parse(File.ReadAllText(adminPath), adminPath);
        Assert.Equal(Convert.ToBase64String("KEY"u8), admin.ClientKey?.Base64Data);
        Assert.Equal(Convert.ToBase64String("CA"u8), admin.CertificateAuthority?.Base64Data);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(adminPath));
    }

    [Fact]
    public async Task Disabled_components_get_no_manifest_and_a_stale_one_is_removed()
    {
        await _node.RenderAsync();
        var result = await _node.RenderAsync("disable-scheduler: true\ndisable-kube-proxy: true");
        Assert.False(File.Exists(result.Paths.PodManifest("kube-scheduler")));
        Assert.False(File.Exists(result.Paths.PodManifest("kube-proxy")));
        Assert.Contains(result.Files, f => f.Change == FileChange.Removed && f.Path == result.Paths.PodManifest("kube-scheduler"));
        Assert.True(File.Exists(result.Paths.PodManifest("kube-apiserver")));
    }

    [Fact]
    public async Task An_etcd_only_node_renders_no_static_pods_and_no_kubernetes_components()
    {
        var result = await _node.RenderAsync("disable-apiserver: true\ndisable-controller-manager: true\ndisable-scheduler: true");
        Assert.Equal(["etcd"], result.Components.Keys);
        // etcd is Bulwark's child, never a static pod the kubelet would start a second time.
        Assert.False(File.Exists(result.Paths.PodManifest("etcd")));
        Assert.False(File.Exists(result.Paths.KubeletConfig));
        Assert.False(File.Exists(result.Paths.EncryptionConfig));
    }

    [Fact]
    public async Task Kube_apiserver_reaches_etcd_on_loopback_with_the_etcd_client_certificate()
    {
        var result = await _node.RenderAsync("etcd-client-port: 12379");
        var api = result.Components["kube-apiserver"];
        var etcdTls = Path.Combine(_node.DataDir, "server", "tls", "etcd");
        Assert.Equal("https://127.0.0.1:12379", api.Get("etcd-servers"));
        Assert.Equal(Path.Combine(etcdTls, "client.crt"), api.Get("etcd-certfile"));
        Assert.Equal(Path.Combine(etcdTls, "client.key"), api.Get("etcd-keyfile"));
        Assert.Equal(Path.Combine(etcdTls, "server-ca.crt"), api.Get("etcd-cafile"));
        Assert.Equal(string.Join(',', TlsSettings.Fips.CipherSuites), api.Get("tls-cipher-suites"));
        Assert.Equal("VersionTLS12", api.Get("tls-min-version"));
        Assert.Equal("6443", api.Get("secure-port"));
    }
}
