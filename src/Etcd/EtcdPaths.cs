namespace Bulwark.Etcd;

/// <summary>Where etcd's files live under the data dir (docs/layout.md).</summary>
public sealed record EtcdPaths(string DataDir)
{
    public string TlsDir => Path.Combine(DataDir, "server", "tls", "etcd");
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

    public string DbDir => Path.Combine(DataDir, "server", "db");
    public string MemberDir => Path.Combine(DbDir, "etcd");
    public string ConfigFile => Path.Combine(MemberDir, "config");

    /// <summary>
    /// Under a profile etcd runs as the etcd account, but the PKI must stay root:root 0600 (CIS 1.1.19-1.1.21): etcd reads
    /// private copies of its own certificates from this folder, owned by it, refreshed on every start.
    /// </summary>
    public string AccountTlsDir => Path.Combine(DbDir, "etcd-tls");
    public string DefaultSnapshotDir => Path.Combine(DbDir, "snapshots");
    public string ResetFlag => Path.Combine(DbDir, "reset-flag");

    /// <summary>The pid of the etcd child, so a member left running by a crashed Bulwark is found on the next start.</summary>
    public string PidFile => Path.Combine(DbDir, "etcd.pid");

    /// <summary>This member's etcd name, kept stable across restarts.</summary>
    public string NameFile => Path.Combine(DbDir, "name");

    public string LogFile => Path.Combine(DataDir, "agent", "logs", "etcd.log");
    public string TokenFile => Path.Combine(DataDir, "server", "token");
    public string RuntimeDataDir => Path.Combine(DataDir, "data");

    /// <summary>True when etcd has member data here (a WAL exists).</summary>
    public bool HasMemberData => Directory.Exists(Path.Combine(MemberDir, "member", "wal"));

    public EtcdClientTls ClientTls => new(ServerCaCert, ClientCert, ClientKey);

    /// <summary>The files etcd itself reads (the server's PKI must have written them).</summary>
    public IReadOnlyList<string> MemberTlsFiles => [ServerCaCert, ServerCert, ServerKey, PeerCaCert, PeerCert, PeerKey];

    /// <summary>Runtime bundle bin folders (<c>data/&lt;version&gt;/bin</c>), newest name first, searched before PATH.</summary>
    public IReadOnlyList<string> BundleBinDirs() =>
        Directory.Exists(RuntimeDataDir)
            ? Directory.GetDirectories(RuntimeDataDir).Select(d => Path.Combine(d, "bin")).Where(Directory.Exists).OrderDescending(StringComparer.Ordinal).ToList()
            : [];
}
