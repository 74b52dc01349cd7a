using System.Globalization;
using Bulwark.ControlPlane;
using Bulwark.Processes;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// Checks a node a real <c>bulwark server</c> or <c>agent</c> wrote against what its consumers need, with real openssl:
/// every file a rendered flag, kubeconfig or KubeletConfiguration names exists (keys and kubeconfigs 0600); every client
/// certificate chains to the CA the apiserver trusts for clients, its key matches, and its subject is the identity the
/// Node authorizer and RBAC expect; the serving certificates verify for the address clients dial; every kubeconfig
/// dials an address the apiserver binds; the apiserver reaches etcd where etcd listens (every member, from a
/// control-plane-only server), with a 0600 client certificate and key that chain to etcd's CA; the service-account public keys
/// include the one of the key the controller-manager signs with. Returns every problem, not just the first.
/// </summary>
public sealed class NodeContract(string dataDir, string nodeName)
{
    private readonly List<string> _problems = [];

    /// <summary>Where the apiserver this node's kubeconfigs dial runs from (a server's own data dir; the joined server's for an agent).</summary>
    public string? ApiServerDataDir { get; init; }

    /// <summary>
    /// A control-plane-only server (disable-etcd): the data dirs of the servers running the cluster's etcd members. It
    /// must run no member itself, and its apiserver must list every member where that member listens (for failover).
    /// </summary>
    public IReadOnlyList<string>? EtcdMemberDataDirs { get; init; }

    private string Data(string relative) => Path.Combine(dataDir, relative);

    public async Task<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
    {
        var apiDir = ApiServerDataDir ?? dataDir;
        var apiserver = Pod(Path.Combine(apiDir, "agent", "pod-manifests", "kube-apiserver.yaml"));
        var clientCa = apiserver["client-ca-file"];
        var serverCa = Path.Combine(apiDir, "server", "tls", "server-ca.crt");
        var bind = apiserver["bind-address"];
        var port = apiserver["secure-port"];

        var kubeconfigs = new Dictionary<string, string?>
        {
            ["agent/kubelet.kubeconfig"] = $"CN=system:node:{nodeName}, O=system:nodes",
            ["agent/kubeproxy.kubeconfig"] = "CN=system:kube-proxy",
        };
        if (ApiServerDataDir is null)
        {
            kubeconfigs["server/cred/admin.kubeconfig"] = "O=system:masters";
            kubeconfigs["server/cred/controller.kubeconfig"] = "CN=system:kube-controller-manager";
            kubeconfigs["server/cred/scheduler.kubeconfig"] = "CN=system:kube-scheduler";
            kubeconfigs["server/cred/supervisor.kubeconfig"] = null;
            kubeconfigs["server/cred/api-server.kubeconfig"] = null;
        }
        foreach (var (relative, identity) in kubeconfigs)
        {
            await KubeconfigAsync(Data(relative), clientCa, apiserver["tls-cert-file"], bind, port, identity, cancellationToken);
        }

        await KubeletConfigurationAsync(apiserver, cancellationToken);
        foreach (var name in new[] { "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy" })
        {
            var manifest = Data($"agent/pod-manifests/{name}.yaml");
            Require(File.Exists(manifest) || (ApiServerDataDir is not null && name != "kube-proxy"), $"{manifest} is missing");
            foreach (var (flag, value) in File.Exists(manifest) ? Pod(manifest) : [])
            {
                if (value.StartsWith('/') && !value.Contains(',') && flag is not ("audit-log-path"))
                {
                    Exists(value, $"{name} --{flag}");
                }
            }
        }
        if (ApiServerDataDir is null)
        {
            await ServerSideAsync(apiserver, serverCa, cancellationToken);
        }
        return _problems;
    }

    private async Task KubeletConfigurationAsync(Dictionary<string, string> apiserver, CancellationToken cancellationToken)
    {
        var kubelet = Yaml(Data("agent/etc/kubelet-config.yaml"));
        var serving = Scalar(kubelet, "tlsCertFile");
        await ChainAsync(serving, apiserver["kubelet-certificate-authority"], "kubelet serving", cancellationToken);
        await KeyMatchesAsync(serving, Scalar(kubelet, "tlsPrivateKeyFile"), cancellationToken);
        Exists(Scalar(kubelet, "authentication", "x509", "clientCAFile"), "KubeletConfiguration");
        if (kubelet.Children.ContainsKey("staticPodPath"))
        {
            Exists(Scalar(kubelet, "staticPodPath"), "KubeletConfiguration");
        }
    }

    private async Task ServerSideAsync(Dictionary<string, string> apiserver, string serverCa, CancellationToken cancellationToken)
    {
        await ChainAsync(apiserver["tls-cert-file"], serverCa, "kube-apiserver serving", cancellationToken,
            apiserver["bind-address"] is "0.0.0.0" ? "127.0.0.1" : apiserver["bind-address"]);
        await KeyMatchesAsync(apiserver["tls-cert-file"], apiserver["tls-private-key-file"], cancellationToken);
        await ChainAsync(apiserver["kubelet-client-certificate"], apiserver["client-ca-file"], "apiserver → kubelet client", cancellationToken);

        // The apiserver reaches etcd where etcd listens (its settings' record, which is also its argv): the local member, or on a
        // control-plane-only server every member of the cluster (none of them here).
        var servers = apiserver["etcd-servers"].Split(',').Select(u => new Uri(u).Authority).ToList();
        var members = EtcdMemberDataDirs ?? [dataDir];
        if (EtcdMemberDataDirs is not null)
        {
            Require(!Directory.Exists(Data("server/db")), $"{Data("server/db")} exists on a control-plane-only server (it runs no etcd member)");
        }
        var listening = new HashSet<string>();
        foreach (var member in members)
        {
            var etcd = Yaml(Path.Combine(member, "server/db/etcd-config.yaml"));
            var urls = Scalar(etcd, "listen-client-urls").Split(',').Select(u => new Uri(u).Authority).ToHashSet();
            listening.UnionWith(urls);
            if (EtcdMemberDataDirs is not null)
            {
                var advertised = Scalar(etcd, "advertise-client-urls");
                Require(servers.Contains(new Uri(advertised).Authority), $"kube-apiserver --etcd-servers {apiserver["etcd-servers"]} lacks the member at {advertised} (every member is listed, for failover)");
            }
            await ChainAsync(apiserver["etcd-certfile"], Scalar(etcd, "client-transport-security", "trusted-ca-file"), $"apiserver → etcd client ({member})", cancellationToken);
            // The apiserver checks each member's serving certificate with its etcd CA, for the address it dials.
            foreach (var dialed in servers.Where(urls.Contains))
            {
                await ChainAsync(Scalar(etcd, "client-transport-security", "cert-file"), apiserver["etcd-cafile"], $"kube-apiserver → etcd at {dialed}", cancellationToken,
                    new Uri("https://" + dialed).Host);
            }
        }
        foreach (var server in servers)
        {
            Require(listening.Contains(server), $"kube-apiserver --etcd-servers {server} is not one etcd listens on ({string.Join(", ", listening)})");
        }
        foreach (var flag in new[] { "etcd-certfile", "etcd-keyfile", "etcd-cafile" })
        {
            Require(File.Exists(apiserver[flag]) && File.GetUnixFileMode(apiserver[flag]) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"kube-apiserver --{flag} {apiserver[flag]} is not a 0600 file");
        }
        await KeyMatchesAsync(apiserver["etcd-certfile"], apiserver["etcd-keyfile"], cancellationToken);

        // The service-account public keys include the one of the key the controller-manager signs with.
        var controller = Pod(Data("agent/pod-manifests/kube-controller-manager.yaml"));
        var signing = await OpenSslAsync(["pkey", "-in", controller["service-account-private-key-file"], "-pubout"], cancellationToken);
        var published = await OpenSslAsync(["pkey", "-in", apiserver["service-account-key-file"], "-pubout"], cancellationToken);
        Require(signing == published, "kube-apiserver --service-account-key-file is not the public half of the controller-manager's signing key");
    }

    private async Task KubeconfigAsync(string path, string clientCa, string servingCert, string bind, string port, string? identity, CancellationToken cancellationToken)
    {
        if (!Exists(path, "kubeconfig"))
        {
            return;
        }
        Require(File.GetUnixFileMode(path) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{path} is not 0600");
        var config = Yaml(path);
        var cluster = (YamlMappingNode)((YamlMappingNode)((YamlSequenceNode)config["clusters"])[0])["cluster"];
        var user = (YamlMappingNode)((YamlMappingNode)((YamlSequenceNode)config["users"])[0])["user"];
        var server = new Uri(Scalar(cluster, "server"));
        Require(server.Port.ToString(CultureInfo.InvariantCulture) == port && (bind == "0.0.0.0" || server.Host == bind),
            $"{path} dials {server.Authority}, but kube-apiserver binds {bind}:{port}");
        // The client checks the apiserver's serving certificate with its CA, for the address it dials.
        await ChainAsync(servingCert, Scalar(cluster, "certificate-authority"), $"{path} → kube-apiserver", cancellationToken, server.Host);
        var certificate = Scalar(user, "client-certificate");
        var key = Scalar(user, "client-key");
        if (!Exists(certificate, path) || !Exists(key, path))
        {
            return;
        }
        Require(File.GetUnixFileMode(key) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{key} is not 0600");
        await ChainAsync(certificate, clientCa, path, cancellationToken);
        await KeyMatchesAsync(certificate, key, cancellationToken);
        if (identity is not null)
        {
            var subject = await OpenSslAsync(["x509", "-in", certificate, "-noout", "-subject", "-nameopt", "RFC2253"], cancellationToken);
            // RFC 2253 lists the RDNs last first: "CN=system:node:n,O=system:nodes".
            var rdns = subject["subject=".Length..].Trim().Split(',').ToHashSet();
            Require(identity.Split(", ").All(rdns.Contains), $"{certificate} is {subject.Trim()}, expected {identity}");
        }
    }

    private async Task ChainAsync(string certificate, string ca, string what, CancellationToken cancellationToken, string? ip = null)
    {
        var result = await ProcessRunner.RunAsync(new ProcessSpec("openssl", ["verify", "-CAfile", ca, .. ip is null ? Array.Empty<string>() : ["-verify_ip", ip], certificate]), cancellationToken);
        Require(result.Succeeded, $"{what}: {certificate} does not verify against {ca}{(ip is null ? "" : " for " + ip)}: {result.StandardOutput.Trim()} {result.StandardError.Trim()}");
    }

    private async Task KeyMatchesAsync(string certificate, string key, CancellationToken cancellationToken)
    {
        var fromCert = await OpenSslAsync(["x509", "-in", certificate, "-noout", "-pubkey"], cancellationToken);
        var fromKey = await OpenSslAsync(["pkey", "-in", key, "-pubout"], cancellationToken);
        Require(fromCert == fromKey, $"{key} is not the key of {certificate}");
    }

    private static async Task<string> OpenSslAsync(string[] args, CancellationToken cancellationToken) =>
        (await ProcessRunner.RunCheckedAsync(new ProcessSpec("openssl", args), cancellationToken)).StandardOutput;

    private bool Exists(string path, string namedBy)
    {
        var exists = File.Exists(path) || Directory.Exists(path);
        Require(exists, $"{path} (named by {namedBy}) does not exist");
        return exists;
    }

    private void Require(bool condition, string problem)
    {
        if (!condition)
        {
            _problems.Add(problem);
        }
    }

    private static Dictionary<string, string> Pod(string manifest)
    {
        var pod = StaticPod.Parse(File.ReadAllText(manifest), manifest);
        return pod.Args.Select(a => a.TrimStart('-').Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "true");
    }

    private static YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Scalar(YamlMappingNode node, params string[] path)
    {
        foreach (var key in path[..^1])
        {
            node = (YamlMappingNode)node[key];
        }
        return ((YamlScalarNode)node[path[^1]]).Value!;
    }
}
