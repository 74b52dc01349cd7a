using Bulwark.FileSystem;

namespace Bulwark.Pki;

/// <summary>A certificate file and its key file.</summary>
public sealed record CertificateFiles(string Certificate, string Key);

/// <summary>
/// The PKI's view of the node layout (<see cref="NodeLayout"/>, docs/layout.md; RKE2's file names, so its documentation and custom-CA procedure apply):
/// <c>&lt;data&gt;/server/tls/</c> and <c>&lt;data&gt;/server/tls/etcd/</c>, and the token files under <c>&lt;data&gt;/server/</c>.
/// </summary>
public sealed record ServerPkiPaths(string DataDir)
{
    public NodeLayout Layout => new(DataDir);
    public string ServerDirectory => Layout.ServerDir;
    public string TlsDirectory => Layout.TlsDir;
    public string EtcdDirectory => Layout.EtcdTlsDir;

    /// <summary>Files by stem relative to the tls folder, e.g. "client-admin" or "etcd/server-client".</summary>
    public CertificateFiles Files(string stem)
    {
        var (certificate, key) = Layout.TlsFiles(stem);
        return new(certificate, key);
    }

    public CertificateFiles ServerCa => Files(PkiCatalog.ServerCa);
    public CertificateFiles ClientCa => Files(PkiCatalog.ClientCa);
    public CertificateFiles RequestHeaderCa => Files(PkiCatalog.RequestHeaderCa);
    public CertificateFiles EtcdServerCa => Files(PkiCatalog.EtcdServerCa);
    public CertificateFiles EtcdPeerCa => Files(PkiCatalog.EtcdPeerCa);

    public CertificateFiles ServingKubeApiserver => Files("serving-kube-apiserver");
    public CertificateFiles ClientAdmin => Files("client-admin");
    public CertificateFiles ClientController => Files("client-controller");
    public CertificateFiles ClientScheduler => Files("client-scheduler");
    public CertificateFiles ClientKubeProxy => Files("client-kube-proxy");
    public CertificateFiles ClientSupervisor => Files("client-supervisor");
    public CertificateFiles ClientKubeApiserver => Files("client-kube-apiserver");
    public CertificateFiles ClientAuthProxy => Files("client-auth-proxy");

    /// <summary>etcd's client-port serving cert (serverAuth+clientAuth): <c>--cert-file/--key-file</c>.</summary>
    public CertificateFiles EtcdServerClient => Files("etcd/server-client");

    /// <summary>etcd's peer cert (serverAuth+clientAuth): <c>--peer-cert-file/--peer-key-file</c>.</summary>
    public CertificateFiles EtcdPeerServerClient => Files("etcd/peer-server-client");

    /// <summary>kube-apiserver's (and Bulwark's) client cert for etcd: <c>--etcd-certfile/--etcd-keyfile</c>.</summary>
    public CertificateFiles EtcdClient => Files("etcd/client");

    /// <summary>Service-account signing key (kube-apiserver <c>--service-account-key-file</c>, controller-manager <c>--service-account-private-key-file</c>).</summary>
    public string ServiceKey => Path.Combine(TlsDirectory, "service.key");
    public string ServiceCurrentKey => Path.Combine(TlsDirectory, "service.current.key");

    public string Token => Layout.TokenFile;
    public string AgentToken => Layout.AgentTokenFile;
}
