using Bulwark.FileSystem;

namespace Bulwark.Etcd;

/// <summary>etcd's view of the node layout (<see cref="NodeLayout"/>, docs/layout.md).</summary>
public sealed record EtcdPaths(string DataDir)
{
    public NodeLayout Layout => new(DataDir);

    public string TlsDir => Layout.EtcdTlsDir;
    public string ServerCaCert => Path.Combine(TlsDir, "server-ca.crt");
    public string ServerCaKey => Path.Combine(TlsDir, "server-ca.key");
    public string ServerCert => Path.Combine(TlsDir, "server-client.crt");
    public string ServerKey => Path.Combine(TlsDir, "server-client.key");
    public string PeerCaCert => Path.Combine(TlsDir, "peer-ca.crt");
    public string PeerCaKey => Path.Combine(TlsDir, "peer-ca.key");
    public string PeerCert => Path.Combine(TlsDir, "peer-server-client.crt");
    public string PeerKey => Path.Combine(TlsDir, "peer-server-client.key");
    public string ClientCert => Path.Combine(TlsDir, "client.crt");
    public string ClientKey => Path.Combine(TlsDir, "client.key");

    public string DbDir => Layout.DbDir;
    public string MemberDir => Layout.EtcdMemberDir;
    public string ConfigFile => Layout.EtcdConfigFile;

    /// <summary>
    /// Under a profile etcd runs as the etcd account, but the PKI must stay root:root 0600 (CIS 1.1.19-1.1.21): etcd reads
    /// private copies of its own certificates from this folder, owned by it, refreshed on every start.
    /// </summary>
    public string AccountTlsDir => Layout.EtcdAccountTlsDir;
    public string DefaultSnapshotDir => Layout.SnapshotsDir;
    public string ResetFlag => Layout.ResetFlag;

    /// <summary>The pid of the etcd child, so a member left running by a crashed Bulwark is found on the next start.</summary>
    public string PidFile => Layout.EtcdPidFile;

    /// <summary>This member's etcd name, kept stable across restarts.</summary>
    public string NameFile => Layout.EtcdNameFile;

    /// <summary>Present while this member is an unpromoted learner (a join in progress).</summary>
    public string JoiningMarker => Layout.EtcdJoiningMarker;

    /// <summary>etcd's own data (WAL and snapshots) inside <see cref="MemberDir"/>.</summary>
    public string MemberDataDir => Path.Combine(MemberDir, "member");

    /// <summary>On a control-plane-only server: the cluster members' client URLs (<see cref="NodeLayout.EtcdEndpointsFile"/>).</summary>
    public string RemoteEndpointsFile => Layout.EtcdEndpointsFile;

    public string LogFile => Layout.EtcdLogFile;
    public string TokenFile => Layout.TokenFile;
    public string RuntimeDataDir => Layout.RuntimeDataDir;

    /// <summary>True when etcd has member data here (a WAL exists).</summary>
    public bool HasMemberData => Directory.Exists(Path.Combine(MemberDataDir, "wal"));

    public EtcdClientTls ClientTls => new(ServerCaCert, ClientCert, ClientKey);

    /// <summary>The files etcd itself reads (the server's PKI must have written them).</summary>
    public IReadOnlyList<string> MemberTlsFiles => [ServerCaCert, ServerCert, ServerKey, PeerCaCert, PeerCert, PeerKey];

    /// <summary>Runtime bundle bin folders (<c>data/&lt;version&gt;/bin</c>), newest name first, searched before PATH.</summary>
    public IReadOnlyList<string> BundleBinDirs() => Layout.BundleBinDirs();
}
