using System.Text;

namespace Bulwark.Tests;

/// <summary>
/// A CIS-hardened, RKE2-like Bulwark server node written under a scratch host root, file by file as
/// docs/layout.md describes: hardened component arguments in the static pod manifests, KubeletConfiguration,
/// etcd config, PKI with keys 0600, PSA config, audit policy, encryption config, NetworkPolicies, kernel
/// parameters under proc/sys, and an etcd data dir 0700 owned by an etcd account (/etc/passwd of the root).
/// The control-plane renderer (issue 6) is written concurrently; when it lands, this fixture should be
/// pointed at its output. Certificates are placeholders: the audit reads modes, owners and paths, not PEM.
/// Needs root (it chowns the etcd data dir).
/// </summary>
public sealed class HardenedNodeFixture : IDisposable
{
    public const string DataDir = "/var/lib/bulwark";
    public const string EtcDir = "/etc/bulwark";
    public const int EtcdUid = 52379;
    public const int EtcdGid = 52379;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDir = Private | UnixFileMode.UserExecute;

    private readonly TempDirectory _root = new("bulwark-node");

    private HardenedNodeFixture()
    {
    }

    /// <summary>The scratch host root (pass as --host-root).</summary>
    public string Root => _root.Path;

    /// <summary>Where a host path of the node lives on this machine.</summary>
    public string HostPath(string hostPath) => Path.Combine(Root, hostPath.TrimStart('/'));

    public string Data(string relative) => HostPath($"{DataDir}/{relative}");

    public static HardenedNodeFixture Create()
    {
        var node = new HardenedNodeFixture();
        node.WriteAll();
        return node;
    }

    /// <summary>Replaces text in a node file (keeping its mode), e.g. to flip --anonymous-auth in a manifest.</summary>
    public void Replace(string hostPath, string from, string to)
    {
        var path = HostPath(hostPath);
        var text = File.ReadAllText(path);
        if (!text.Contains(from, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{hostPath} does not contain '{from}'");
        }
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    public void Dispose() => _root.Dispose();

    private void WriteAll()
    {
        Write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\netcd:x:52379:52379:etcd:/var/lib/bulwark/server/db/etcd:/usr/sbin/nologin\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Write("/etc/group", "root:x:0:\netcd:x:52379:\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Write("/etc/hostname", "hardened-node-1\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        foreach (var (name, value) in new[] { ("vm/overcommit_memory", "1"), ("vm/panic_on_oom", "0"), ("kernel/panic", "10"), ("kernel/panic_on_oops", "1") })
        {
            Write($"/proc/sys/{name}", value + "\n", UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        Write("/etc/cni/net.d/05-cilium.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"portmap\",\"plugins\":[{\"type\":\"cilium-cni\"}]}\n", Private);
        WritePki();
        WriteEtcd();
        WriteControlPlane();
        WriteAgent();
    }

    private void WritePki()
    {
        string[] pairs =
        [
            "server-ca", "client-ca", "request-header-ca", "serving-kube-apiserver", "client-admin", "client-controller",
            "client-scheduler", "client-kube-proxy", "client-supervisor", "client-kube-apiserver", "client-auth-proxy",
            "etcd/server-ca", "etcd/peer-ca", "etcd/server-client", "etcd/peer-server-client", "etcd/client",
        ];
        foreach (var pair in pairs)
        {
            Write($"{DataDir}/server/tls/{pair}.crt", Pem("CERTIFICATE", pair), Private);
            Write($"{DataDir}/server/tls/{pair}.key", Pem("EC PRIVATE KEY", pair), Private);
        }
        Write($"{DataDir}/server/tls/service.key", Pem("EC PRIVATE KEY", "service"), Private);
        Write($"{DataDir}/server/tls/service.current.key", Pem("EC PRIVATE KEY", "service.current"), Private);
        Write($"{DataDir}/server/token", "K10fixture::server:fixture-secret\n", Private);
    }

    private void WriteEtcd()
    {
        var tls = $"{DataDir}/server/tls/etcd";
        var etcdDir = $"{DataDir}/server/db/etcd";
        Write($"{etcdDir}/config", $"""
            name: hardened-node-1
            data-dir: {etcdDir}
            listen-client-urls: https://127.0.0.1:2379
            listen-peer-urls: https://127.0.0.1:2380
            client-transport-security:
              cert-file: {tls}/server-client.crt
              key-file: {tls}/server-client.key
              trusted-ca-file: {tls}/server-ca.crt
              client-cert-auth: true
              auto-tls: false
            peer-transport-security:
              cert-file: {tls}/peer-server-client.crt
              key-file: {tls}/peer-server-client.key
              trusted-ca-file: {tls}/peer-ca.crt
              client-cert-auth: true
              auto-tls: false

            """, Private);
        Write($"{etcdDir}/member/snap/db", "etcd bbolt placeholder", Private);
        Write($"{etcdDir}/member/wal/0000000000000000-0000000000000000.wal", "wal placeholder", Private);
        foreach (var path in Directory.EnumerateFileSystemEntries(HostPath(etcdDir), "*", SearchOption.AllDirectories).Append(HostPath(etcdDir)))
        {
            File.SetUnixFileMode(path, Directory.Exists(path) ? PrivateDir : Private);
            Chown(path, EtcdUid, EtcdGid);
        }
        Pod("etcd", "etcd", [$"--config-file={etcdDir}/config"]);
    }

    private void WriteControlPlane()
    {
        var tls = $"{DataDir}/server/tls";
        var cred = $"{DataDir}/server/cred";
        const string ciphers = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305";
        Pod("kube-apiserver", "kube-apiserver",
        [
            $"--admission-control-config-file={EtcDir}/bulwark-pss.yaml",
            "--allow-privileged=true",
            "--anonymous-auth=false",
            "--audit-log-maxage=30",
            "--audit-log-maxbackup=10",
            "--audit-log-maxsize=100",
            "--audit-log-mode=blocking-strict",
            $"--audit-log-path={DataDir}/server/logs/audit.log",
            $"--audit-policy-file={EtcDir}/audit-policy.yaml",
            "--authorization-mode=Node,RBAC",
            "--bind-address=0.0.0.0",
            $"--client-ca-file={tls}/client-ca.crt",
            "--enable-admission-plugins=NodeRestriction,AlwaysPullImages",
            $"--encryption-provider-config={cred}/encryption-config.json",
            $"--etcd-cafile={tls}/etcd/server-ca.crt",
            $"--etcd-certfile={tls}/etcd/client.crt",
            $"--etcd-keyfile={tls}/etcd/client.key",
            "--etcd-servers=https://127.0.0.1:2379",
            $"--kubelet-certificate-authority={tls}/server-ca.crt",
            $"--kubelet-client-certificate={tls}/client-kube-apiserver.crt",
            $"--kubelet-client-key={tls}/client-kube-apiserver.key",
            "--profiling=false",
            $"--requestheader-client-ca-file={tls}/request-header-ca.crt",
            "--request-timeout=300s",
            "--secure-port=6443",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            $"--service-account-key-file={tls}/service.key",
            "--service-account-lookup=true",
            "--service-account-extend-token-expiration=false",
            $"--service-account-signing-key-file={tls}/service.current.key",
            $"--tls-cert-file={tls}/serving-kube-apiserver.crt",
            $"--tls-cipher-suites={ciphers}",
            "--tls-min-version=VersionTLS12",
            $"--tls-private-key-file={tls}/serving-kube-apiserver.key",
        ]);
        Pod("kube-controller-manager", "kube-controller-manager",
        [
            "--bind-address=127.0.0.1",
            $"--kubeconfig={cred}/controller.kubeconfig",
            "--profiling=false",
            $"--root-ca-file={tls}/server-ca.crt",
            $"--service-account-private-key-file={tls}/service.current.key",
            "--terminated-pod-gc-threshold=1000",
            "--tls-min-version=VersionTLS12",
            "--use-service-account-credentials=true",
        ]);
        Pod("kube-scheduler", "kube-scheduler",
        [
            "--bind-address=127.0.0.1",
            $"--config={DataDir}/server/etc/kube-scheduler-config.yaml",
            "--tls-min-version=VersionTLS12",
        ]);
        // v1.32: profiling and the kubeconfig live in the KubeSchedulerConfiguration, as Bulwark renders them.
        Write($"{DataDir}/server/etc/kube-scheduler-config.yaml", $"""
            apiVersion: kubescheduler.config.k8s.io/v1
            kind: KubeSchedulerConfiguration
            clientConnection:
              kubeconfig: {cred}/scheduler.kubeconfig
            enableProfiling: false
            """, Private);
        Pod("kube-proxy", "kube-proxy", [$"--kubeconfig={DataDir}/agent/kubeproxy.kubeconfig", "--metrics-bind-address=127.0.0.1:10249"]);

        foreach (var kubeconfig in new[] { "admin", "controller", "scheduler", "supervisor", "api-server" })
        {
            Write($"{cred}/{kubeconfig}.kubeconfig", Kubeconfig(kubeconfig), Private);
        }
        Write($"{cred}/encryption-config.json", """
            {"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":"Zml4dHVyZS1maXh0dXJlLWZpeHR1cmUtZml4dHVyZTA="}]}},{"identity":{}}]}]}
            """, Private);
        Write($"{DataDir}/server/manifests/bulwark-network-policies.yaml", """
            # controls: CIS-5.3.2
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: default-deny-ingress
              namespace: default
            spec:
              podSelector: {}
              policyTypes: [Ingress]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: default-network-policy
              namespace: kube-system
            spec:
              podSelector: {}
              ingress:
                - from:
                    - podSelector: {}
              policyTypes: [Ingress]

            """, Private);
        Write($"{EtcDir}/bulwark-pss.yaml", """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
              - name: PodSecurity
                configuration:
                  apiVersion: pod-security.admission.config.k8s.io/v1
                  kind: PodSecurityConfiguration
                  defaults:
                    enforce: "restricted"
                    enforce-version: "latest"
                    audit: "restricted"
                    audit-version: "latest"
                    warn: "restricted"
                    warn-version: "latest"
                  exemptions:
                    usernames: []
                    runtimeClasses: []
                    namespaces: [kube-system]

            """, Private);
        Write($"{EtcDir}/audit-policy.yaml", """
            apiVersion: audit.k8s.io/v1
            kind: Policy
            rules:
              - level: Metadata
                resources:
                  - group: ""
                    resources: ["secrets", "configmaps"]
              - level: RequestResponse

            """, Private);
    }

    private void WriteAgent()
    {
        var agent = $"{DataDir}/agent";
        Write($"{agent}/etc/kubelet.args", string.Join('\n',
        [
            $"--config={agent}/etc/kubelet-config.yaml",
            $"--kubeconfig={agent}/kubelet.kubeconfig",
            "--container-runtime-endpoint=unix:///run/k3s/containerd/containerd.sock",
        ]) + "\n", Private);
        Write($"{agent}/etc/kubelet-config.yaml", $"""
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            authentication:
              anonymous:
                enabled: false
              webhook:
                enabled: true
              x509:
                clientCAFile: {agent}/client-ca.crt
            authorization:
              mode: Webhook
            readOnlyPort: 0
            podPidsLimit: 4096
            seccompDefault: true
            streamingConnectionIdleTimeout: 5m
            protectKernelDefaults: true
            makeIPTablesUtilChains: true
            eventRecordQPS: 5
            rotateCertificates: true
            featureGates:
              RotateKubeletServerCertificate: true
            tlsCertFile: {agent}/serving-kubelet.crt
            tlsPrivateKeyFile: {agent}/serving-kubelet.key
            tlsCipherSuites:
              - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
              - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
              - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
              - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            staticPodPath: {agent}/pod-manifests

            """, Private);
        Write($"{agent}/kubelet.kubeconfig", Kubeconfig("kubelet"), Private);
        Write($"{agent}/kubeproxy.kubeconfig", Kubeconfig("kube-proxy"), Private);
        Write($"{agent}/client-ca.crt", Pem("CERTIFICATE", "client-ca"), Private);
        foreach (var pair in new[] { "client-kubelet", "serving-kubelet", "client-kube-proxy" })
        {
            Write($"{agent}/{pair}.crt", Pem("CERTIFICATE", pair), Private);
            Write($"{agent}/{pair}.key", Pem("EC PRIVATE KEY", pair), Private);
        }
    }

    private void Pod(string file, string binary, IReadOnlyList<string> args)
    {
        var yaml = new StringBuilder();
        yaml.Append($"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: {file}
              namespace: kube-system
            spec:
              hostNetwork: true
              containers:
                - name: {file}
                  image: bulwark/{file}:v1.31.4
                  command: ["{binary}"]
                  args:

            """);
        foreach (var arg in args)
        {
            yaml.Append("        - \"").Append(arg).Append("\"\n");
        }
        Write($"{DataDir}/agent/pod-manifests/{file}.yaml", yaml.ToString(), Private);
    }

    private static string Kubeconfig(string user) => $"""
        apiVersion: v1
        kind: Config
        clusters:
          - name: local
            cluster:
              server: https://127.0.0.1:6443
        users:
          - name: {user}
        contexts:
          - name: local
            context: {"{"}cluster: local, user: {user}{"}"}
        current-context: local

        """;

    private static string Pem(string type, string name) => $"-----BEGIN {type}-----\n(fixture {name})\n-----END {type}-----\n";

    private void Write(string hostPath, string content, UnixFileMode mode)
    {
        var path = HostPath(hostPath);
        var dir = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, PrivateDir);
        }
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
    }

    private static void Chown(string path, int uid, int gid)
    {
        if (Lchown(path, uid, gid) != 0)
        {
            throw new InvalidOperationException($"chown {uid}:{gid} {path} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); the fixture needs root");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int Lchown([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int uid, int gid);
}
