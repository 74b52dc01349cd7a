using Bulwark.Config;
using Bulwark.Pki;
using Bulwark.FileSystem;
using Bulwark.Resources;
using Bulwark.Diagnostics;
using Bulwark.Kube;

namespace Bulwark.ControlPlane;

public enum FileChange
{
    Written,
    Unchanged,
    Removed,
}

/// <summary>One file the renderer is responsible for and what happened to it.</summary>
public sealed record RenderedFile(string Path, FileChange Change, string What);

/// <summary>What a render produced: the files, the warnings (overrides that break controls without a profile), and the argv per component.</summary>
public sealed record RenderResult(
    IReadOnlyList<RenderedFile> Files,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, ComponentArgs> Components,
    ControlPlanePaths Paths,
    bool KubeletRunsStaticPods)
{
    public IEnumerable<RenderedFile> Written => Files.Where(f => f.Change == FileChange.Written);
}

/// <summary>The configuration asks for something the hardened control plane refuses. Nothing was written.</summary>
public sealed class ControlPlaneConfigException(IReadOnlyList<string> problems)
    : BulwarkException(ErrorKind.Usage, string.Join("\n", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Writes the whole control plane for a server node: PSA config, audit policy, encryption config, kubeconfigs, the
/// kubelet's config and argv, static pod manifests, and (under CIS) NetworkPolicies and default ServiceAccounts.
/// Everything is validated before anything is written; files are written atomically with their final mode and only
/// when their content changed.
/// </summary>
public sealed class ControlPlaneRenderer
{
    private readonly EmbeddedData _data;
    private readonly Lazy<ComponentSet> _specs;

    public ControlPlaneRenderer(EmbeddedData? data = null)
    {
        _data = data ?? EmbeddedData.BuiltIn;
        // The specs are immutable data: parsed once per renderer, then shared by its renders.
        _specs = new Lazy<ComponentSet>(() => ComponentSpecLoader.LoadAll(_data));
    }

    /// <summary>The components that run on this node given the disable-* keys (etcd-only nodes run none but etcd).</summary>
    public static IReadOnlyList<string> EnabledComponents(EffectiveConfig config)
    {
        var enabled = new List<string>();
        if (!config.Get(ConfigKeys.DisableEtcd))
        {
            enabled.Add("etcd");
        }
        var controlPlane = new (string Name, BoolKey Disable)[]
        {
            ("kube-apiserver", ConfigKeys.DisableApiserver),
            ("kube-controller-manager", ConfigKeys.DisableControllerManager),
            ("kube-scheduler", ConfigKeys.DisableScheduler),
        }.Where(c => !config.Get(c.Disable)).Select(c => c.Name).ToList();
        enabled.AddRange(controlPlane);
        if (controlPlane.Count > 0)
        {
            enabled.Add("kubelet");
            if (!config.Get(ConfigKeys.DisableKubeProxy))
            {
                enabled.Add("kube-proxy");
            }
        }
        return enabled;
    }

    /// <summary>
    /// kube-apiserver's repeatable <c>--service-account-key-file</c> (v1.32: a list flag) also names the retired
    /// service-account public keys still within service-account-key-retention, right after the current key, so tokens
    /// signed before <c>certificate rotate-sa-key</c> stay valid; retired keys past it are no longer listed.
    /// </summary>
    private static ComponentArgs WithRetiredServiceAccountKeys(ComponentArgs args, RenderContext context)
    {
        const string flag = "service-account-key-file";
        var retained = ServiceAccountKeys.Retained(context.Config.DataDir, DateTimeOffset.UtcNow, ServiceAccountKeys.RetentionOf(context.Config));
        var at = args.Args.ToList().FindIndex(a => a.Key == flag);
        if (retained.Count == 0 || at < 0)
        {
            return args;
        }
        var list = args.Args.ToList();
        list.InsertRange(at + 1, retained.Select(r => new KeyValuePair<string, string>(flag, Path.Combine(context.Config.DataDir, r.RelativePath))));
        return args with { Args = list };
    }

    /// <summary>Each enabled component's arguments; under a profile a broken control is a problem, else a warning.</summary>
    private (Dictionary<string, ComponentArgs> Components, List<string> Problems, List<string> Warnings) Merge(IEnumerable<string> enabled, RenderContext context)
    {
        var config = context.Config;
        var problems = new List<string>();
        var warnings = new List<string>();
        var components = new Dictionary<string, ComponentArgs>(StringComparer.Ordinal);
        foreach (var name in enabled)
        {
            var (args, violations) = ArgumentMerger.Merge(_specs.Value[name], context);
            components[name] = name == "kube-apiserver" ? WithRetiredServiceAccountKeys(args, context) : args;
            foreach (var violation in violations)
            {
                (context.IsCis ? problems : warnings).Add(context.IsCis
                    ? $"{violation.Message}; refused under profile {config.Get(ConfigKeys.Profile)} (remove the argument, or run without the profile)"
                    : $"{violation.Message} (allowed without a profile; refused under cis)");
            }
        }
        return (components, problems, warnings);
    }

    /// <summary>Where the admin kubeconfig goes: write-kubeconfig when set, else &lt;etc&gt;/bulwark.yaml.</summary>
    public static string AdminKubeconfigPath(EffectiveConfig config, string etcDir) =>
        config.IsSet(ConfigKeys.WriteKubeconfig) ? Path.GetFullPath(config.Get(ConfigKeys.WriteKubeconfig)) : Path.Combine(Path.GetFullPath(etcDir), "bulwark.yaml");

    /// <summary>The folder of the config file (docs/layout.md's &lt;etc&gt;): of the first file read, else /etc/bulwark.</summary>
    public static string EtcDirectory(EffectiveConfig config) => config.Layout.EtcDir;

    public Task<RenderResult> RenderAsync(EffectiveConfig config, string etcDir, CancellationToken cancellationToken = default) =>
        RenderAsync(new RenderContext(config, etcDir), null, cancellationToken);

    public async Task<RenderResult> RenderAsync(RenderContext context, ISecretsEncryptionStateStore? stateStore, CancellationToken cancellationToken = default)
    {
        var config = context.Config;
        var paths = context.Paths;
        var specs = _specs.Value;
        var enabled = EnabledComponents(config);

        // 1. Validate everything first: a refused configuration writes nothing.
        var (components, problems, warnings) = Merge(enabled, context);
        if (enabled.Contains("kube-apiserver") && LoopbackAdvertised(context) is { } loopback)
        {
            if (config.Get(ConfigKeys.SingleHostDemo))
            {
                warnings.Add($"single-host demo: the apiserver advertises the loopback address {loopback}; the kubernetes Service has no endpoints, so pods cannot reach the API. Not for a real cluster.");
            }
            else
            {
                problems.Add($"advertise-address {loopback} is a loopback address (from {(config.Get(ConfigKeys.AdvertiseAddress).Length > 0 ? "advertise-address" : "node-ip")}): " +
                    "the apiserver publishes it in the default/kubernetes Endpoints, which refuse loopback addresses, so pods could not reach the API. " +
                    "Set advertise-address (or node-ip) to an address of this host that pods and other nodes reach; for a single-host demo only, set single-host-demo: true.");
            }
        }
        var userPsa = config.Get(ConfigKeys.PodSecurityAdmissionConfigFile);
        if (userPsa.Length > 0)
        {
            ValidateUserFile(ConfigKeys.PodSecurityAdmissionConfigFile, context.PodSecurityConfigPath, text => PodSecurityConfig.Parse(text, context.PodSecurityConfigPath), problems);
        }
        var userAudit = config.Get(ConfigKeys.AuditPolicyFile);
        if (userAudit.Length > 0)
        {
            ValidateUserFile(ConfigKeys.AuditPolicyFile, context.AuditPolicyPath, text => AuditPolicy.Parse(text, context.AuditPolicyPath), problems);
        }
        if (problems.Count > 0)
        {
            throw new ControlPlaneConfigException(problems);
        }

        // 2. Write. Folders first (0700), then config files, then manifests (their hashes cover the files they mount).
        var files = new List<RenderedFile>();
        foreach (var dir in new[] { paths.Cred, paths.ServerEtc, paths.ServerManifests, paths.ServerLogs, paths.Agent, paths.PodManifests, paths.AgentEtc, paths.AgentLogs })
        {
            AtomicFile.EnsureDirectory(dir, AtomicFile.PrivateDirectory);
        }
        if (!Directory.Exists(paths.EtcDir))
        {
            Directory.CreateDirectory(paths.EtcDir, AtomicFile.PrivateDirectory);
        }

        if (userPsa.Length == 0)
        {
            Write(files, paths.DefaultPodSecurityConfig, PodSecurityConfig.Default(config, _data).ToYaml(), "Pod Security Admission configuration");
        }
        if (userAudit.Length == 0)
        {
            Write(files, paths.DefaultAuditPolicy, _data.ReadText(AuditPolicy.DataFile), "audit policy");
        }
        if (config.Get(ConfigKeys.SecretsEncryption) && enabled.Contains("kube-apiserver"))
        {
            var kms = config.Get(ConfigKeys.SecretsEncryptionProvider) == "kms" ? KmsProvider.ForSocket(config.Layout.KmsSocket) : null;
            var manager = new SecretsEncryptionManager(paths.EncryptionConfig, stateStore ?? new FileSecretsEncryptionStateStore(paths.EncryptionState), kms: kms);
            var created = await manager.EnsureAsync(cancellationToken).ConfigureAwait(false);
            files.Add(new RenderedFile(paths.EncryptionConfig, created ? FileChange.Written : FileChange.Unchanged, "secrets encryption config"));
        }

        WriteKubeconfigs(context, files);

        WriteComponentConfigs(components, context, files);

        foreach (var name in ComponentSpecLoader.Names.Where(n => n != "kubelet"))
        {
            var path = paths.PodManifest(name);
            if (name == "etcd")
            {
                // etcd is Bulwark's supervised child, launched with flags before the kubelet exists; a static pod would be a
                // second member the kubelet starts on the same ports (docs/audit.md). Its spec still validates etcd-arg and
                // supplies the hardened settings (EtcdHardening).
                Remove(files, path, "etcd static pod (etcd runs as Bulwark's child)");
            }
            else if (components.TryGetValue(name, out var args))
            {
                Write(files, path, StaticPodRenderer.Render(args, context).ToYaml(), $"{name} static pod");
            }
            else
            {
                Remove(files, path, $"{name} static pod (component disabled)");
            }
        }

        if (context.IsCis)
        {
            Write(files, paths.NetworkPolicies, ClusterManifests.NetworkPolicies(config, _data), "default NetworkPolicies");
            Write(files, paths.ServiceAccounts, ClusterManifests.ServiceAccounts(_data), "default ServiceAccounts");
        }
        else
        {
            Remove(files, paths.NetworkPolicies, "default NetworkPolicies (CIS profile off)");
            Remove(files, paths.ServiceAccounts, "default ServiceAccounts (CIS profile off)");
        }
        return new RenderResult(files, warnings, components, paths, context.KubeletRunsStaticPods);
    }

    private static string? LoopbackAdvertised(RenderContext context) =>
        System.Net.IPAddress.TryParse(context.AdvertiseAddress, out var address) && System.Net.IPAddress.IsLoopback(address) ? context.AdvertiseAddress : null;

    private static void WriteKubeconfigs(RenderContext context, List<RenderedFile> files)
    {
        var p = context.Paths;
        var server = context.KubeApiserverUrl;
        var ca = Path.Combine(p.Tls, "server-ca.crt");
        Kubeconfig ForClient(string user, string certStem) => Kubeconfig.ForCertificate(server, user, ca, new CertificateFiles(certStem + ".crt", certStem + ".key"));

        var cred = new (string File, string User, string Cert)[]
        {
            ("admin.kubeconfig", "admin", Path.Combine(p.Tls, "client-admin")),
            ("controller.kubeconfig", "system:kube-controller-manager", Path.Combine(p.Tls, "client-controller")),
            ("scheduler.kubeconfig", "system:kube-scheduler", Path.Combine(p.Tls, "client-scheduler")),
            ("supervisor.kubeconfig", "bulwark-supervisor", Path.Combine(p.Tls, "client-supervisor")),
            ("api-server.kubeconfig", "system:apiserver", Path.Combine(p.Tls, "client-kube-apiserver")),
        };
        foreach (var (file, user, cert) in cred)
        {
            Write(files, Path.Combine(p.Cred, file), ForClient(user, cert).ToYaml(), $"kubeconfig for {user}");
        }
        Write(files, Path.Combine(p.Agent, "kubelet.kubeconfig"), ForClient("system:node:" + context.Node.Name, Path.Combine(p.Agent, "client-kubelet")).ToYaml(), "kubelet kubeconfig");
        Write(files, Path.Combine(p.Agent, "kubeproxy.kubeconfig"), ForClient("system:kube-proxy", Path.Combine(p.Agent, "client-kube-proxy")).ToYaml(), "kube-proxy kubeconfig");

        // The admin copy people take elsewhere: credentials embedded when the PKI has written them.
        var adminPath = AdminKubeconfigPath(context.Config, p.EtcDir);
        var admin = new Kubeconfig(server, "admin", Credential.EmbedIfPresent(ca),
            Credential.EmbedIfPresent(Path.Combine(p.Tls, "client-admin.crt")), Credential.EmbedIfPresent(Path.Combine(p.Tls, "client-admin.key")));
        var mode = (UnixFileMode)Convert.ToInt32(context.Config.Get(ConfigKeys.WriteKubeconfigMode), 8);
        Directory.CreateDirectory(Path.GetDirectoryName(adminPath)!, AtomicFile.PrivateDirectory);
        files.Add(new RenderedFile(adminPath, AtomicFile.WriteIfChanged(adminPath, admin.ToYaml(), mode) ? FileChange.Written : FileChange.Unchanged,
            $"admin kubeconfig (mode {context.Config.Get(ConfigKeys.WriteKubeconfigMode)})"));
    }

    private static void ValidateUserFile(StringKey key, string path, Action<string> validate, List<string> problems)
    {
        if (!File.Exists(path))
        {
            problems.Add($"{key.Name}: {path} does not exist; fix the path or remove the setting to use Bulwark's default");
            return;
        }
        try
        {
            validate(File.ReadAllText(path));
        }
        catch (PodSecurityConfigException e)
        {
            problems.AddRange(e.Problems.Select(p => $"{key.Name}: {p}"));
        }
        catch (ControlPlaneDataException e)
        {
            problems.Add($"{key.Name}: {e.Message}");
        }
    }

    private static void Write(List<RenderedFile> files, string path, string content, string what) =>
        files.Add(new RenderedFile(path, AtomicFile.WriteIfChanged(path, content, AtomicFile.Private) ? FileChange.Written : FileChange.Unchanged, what));

    /// <summary>Each component's config file (KubeletConfiguration, KubeSchedulerConfiguration) and the kubelet's argv file.</summary>
    private static void WriteComponentConfigs(Dictionary<string, ComponentArgs> components, RenderContext context, List<RenderedFile> files)
    {
        foreach (var (name, args) in components.Where(c => c.Value.Spec.ConfigFile is not null))
        {
            var file = args.Spec.ConfigFile!;
            Write(files, context.Expand(file.PathTemplate, args.Spec.SourcePath + " config-file"), ComponentConfig.Render(args.Spec, context, args.ConfigOverrides).ToYaml(), $"{name} {file.Kind}");
        }
        if (components.TryGetValue("kubelet", out var kubelet))
        {
            Write(files, context.Paths.KubeletArgs, string.Join("\n", kubelet.Argv) + "\n", "kubelet arguments");
        }
    }

    /// <summary>
    /// An agent's node files: the kubelet's KubeletConfiguration and argv, and kube-proxy's static pod (unless
    /// disable-kube-proxy), hardened like a server's; the kubeconfigs and certificates come from the join.
    /// </summary>
    public RenderResult RenderAgentNode(RenderContext context)
    {
        string[] enabled = context.Config.Get(ConfigKeys.DisableKubeProxy) ? ["kubelet"] : ["kubelet", "kube-proxy"];
        var (components, problems, warnings) = Merge(enabled, context);
        if (problems.Count > 0)
        {
            throw new ControlPlaneConfigException(problems);
        }
        var paths = context.Paths;
        foreach (var dir in new[] { paths.Agent, paths.PodManifests, paths.AgentEtc, paths.AgentLogs })
        {
            AtomicFile.EnsureDirectory(dir, AtomicFile.PrivateDirectory);
        }
        var files = new List<RenderedFile>();
        WriteComponentConfigs(components, context, files);
        if (components.TryGetValue("kube-proxy", out var proxy))
        {
            Write(files, paths.PodManifest("kube-proxy"), StaticPodRenderer.Render(proxy, context).ToYaml(), "kube-proxy static pod");
        }
        else
        {
            Remove(files, paths.PodManifest("kube-proxy"), "kube-proxy static pod (component disabled)");
        }
        return new RenderResult(files, warnings, components, paths, context.KubeletRunsStaticPods);
    }

    private static void Remove(List<RenderedFile> files, string path, string what)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            files.Add(new RenderedFile(path, FileChange.Removed, what));
        }
    }
}
