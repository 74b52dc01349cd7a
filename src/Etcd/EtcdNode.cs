using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Hardening;
using Bulwark.Pki;
using Bulwark.Processes;

namespace Bulwark.Etcd;

/// <summary>
/// This node's etcd, derived from the Bulwark config: names, addresses, ports, files and account.
/// Everything the server, the snapshot commands and reset/restore need to find or run the local member.
/// </summary>
public sealed record EtcdNode(EtcdPaths Paths, string NodeName, string NodeIp, int ClientPort, int PeerPort, int MetricsPort)
{
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>Set under the cis and etcd profiles (CIS 1.1.11/1.1.12).</summary>
    public RunAsUser? RunAs { get; init; }

    /// <summary>
    /// Set on a control-plane-only server (disable-etcd), which runs no member: the cluster members' client URLs it uses
    /// instead of the local one (empty until its join wrote them). Null on a server that runs its own member.
    /// </summary>
    public IReadOnlyList<Uri>? RemoteClientUrls { get; init; }

    /// <summary>False on a control-plane-only server: no local member, no member data, no snapshots here.</summary>
    public bool RunsMember => RemoteClientUrls is null;

    public static EtcdNode FromConfig(EffectiveConfig config)
    {
        var identity = NodeIdentity.Resolve(config);
        return new EtcdNode(new EtcdPaths(config.DataDir), identity.Name, identity.PrimaryAddress,
            config.Get(ConfigKeys.EtcdClientPort), config.Get(ConfigKeys.EtcdPeerPort), config.Get(ConfigKeys.EtcdMetricsPort))
        {
            ExtraArgs = config.Get(ConfigKeys.EtcdArg),
            RunAs = config.Profile.RequiresEtcdUser() ? new RunAsUser(HostPreflight.EtcdAccount, HostPreflight.EtcdAccount) : null,
            RemoteClientUrls = config.Get(ConfigKeys.DisableEtcd) ? ClusterEndpoints.Read(new EtcdPaths(config.DataDir).RemoteEndpointsFile) : null,
        };
    }

    /// <summary>The local client endpoint Bulwark itself uses (loopback, always listened on).</summary>
    public Uri LocalClientUrl => new($"https://127.0.0.1:{ClientPort}");

    public string AdvertisedClientUrl => $"https://{HostPart(NodeIp)}:{ClientPort}";

    public string PeerUrl => $"https://{HostPart(NodeIp)}:{PeerPort}";

    /// <summary>Where this server's own clients reach etcd: the local member, or (control-plane-only) every cluster member, failing over.</summary>
    public IReadOnlyList<Uri> ClientUrls => RemoteClientUrls switch
    {
        null => [LocalClientUrl],
        { Count: 0 } => throw new BulwarkException(ErrorKind.Unavailable,
            $"this control-plane-only server (disable-etcd) has not joined a cluster yet: {Paths.RemoteEndpointsFile} lists no etcd members. " +
            "Start bulwark server with server: https://<etcd server>:9345 and its token; the join writes the list."),
        var remote => remote,
    };

    public EtcdClientOptions ClientOptions() => new(ClientUrls, Paths.ClientTls);

    /// <summary>This member's name: node name plus 8 random hex digits (as k3s), created once and kept in server/db/name.</summary>
    public string MemberName()
    {
        if (File.Exists(Paths.NameFile) && File.ReadAllText(Paths.NameFile).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }
        AtomicFile.EnsureDirectory(Paths.DbDir, AtomicFile.PrivateDirectory);
        var name = $"{NodeName}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        AtomicFile.WriteAllText(Paths.NameFile, name + "\n", AtomicFile.Private);
        return name;
    }

    /// <summary>
    /// Loopback (what Bulwark uses) and the advertised URL (what other servers use), each once: etcd 3.4 exits with
    /// "address already in use" when one URL is listed twice, as with node-ip 127.0.0.1.
    /// </summary>
    public IReadOnlyList<string> ListenClientUrls => [.. new[] { LocalClientUrl.ToString().TrimEnd('/'), AdvertisedClientUrl }.Distinct(StringComparer.Ordinal)];

    public IReadOnlyList<string> ListenPeerUrls => [PeerUrl];

    public EtcdMemberConfig MemberConfig(string name, string initialCluster, string state = "new", bool forceNewCluster = false)
    {
        return new EtcdMemberConfig
        {
            Name = name,
            DataDir = Paths.MemberDir,
            ListenClientUrls = ListenClientUrls,
            AdvertiseClientUrls = [AdvertisedClientUrl],
            ListenPeerUrls = ListenPeerUrls,
            AdvertisePeerUrls = [PeerUrl],
            // Metrics and /health on loopback only, plain HTTP: the health probe needs no client certificate.
            ListenMetricsUrl = $"http://127.0.0.1:{MetricsPort}",
            InitialCluster = initialCluster,
            InitialClusterState = state,
            ForceNewCluster = forceNewCluster,
            TrustedCaFile = Paths.ServerCaCert,
            CertFile = Paths.ServerCert,
            KeyFile = Paths.ServerKey,
            PeerTrustedCaFile = Paths.PeerCaCert,
            PeerCertFile = Paths.PeerCert,
            PeerKeyFile = Paths.PeerKey,
            ExtraArgs = ExtraArgs,
        };
    }

    /// <summary>A new single-member cluster of this node (also the shape after a reset or restore).</summary>
    public EtcdMemberConfig SingleMemberConfig(bool forceNewCluster = false)
    {
        var name = MemberName();
        return MemberConfig(name, $"{name}={PeerUrl}", "new", forceNewCluster);
    }

    public string Binary() => ProgramLocator.Require("etcd",
        $"Install etcd (apt-get install etcd-server) or put it in {Path.Combine(Paths.RuntimeDataDir, "<version>", "bin")}.", Paths.BundleBinDirs());

    /// <summary>Writes the config file and prepares folders and ownership; returns the spec to run.</summary>
    public EtcdMemberSpec Prepare(EtcdMemberConfig config)
    {
        var missing = Paths.MemberTlsFiles.Where(f => !File.Exists(f)).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException($"etcd certificates are missing: {string.Join(", ", missing)}. They are written by the server's PKI stage; check --data-dir.");
        }
        AtomicFile.EnsureDirectory(Paths.DbDir, AtomicFile.PrivateDirectory);
        AtomicFile.EnsureDirectory(Paths.MemberDir, AtomicFile.PrivateDirectory);
        if (RunAs is not null)
        {
            config = EtcdOwnership.UseAccountTlsCopies(Paths, config);
        }
        WriteConfig(config);
        // Releases before the flags launch kept etcd's config inside its data dir, where V-242445 wants only etcd's files.
        File.Delete(Path.Combine(Paths.MemberDir, "config"));
        if (RunAs is { } account)
        {
            EtcdOwnership.Apply(Paths, account);
        }
        return new EtcdMemberSpec(config, Binary(), Paths.ConfigFile, Paths.LogFile, Paths.PidFile) { RunAs = RunAs };
    }

    /// <summary>Writes the record of etcd's settings that CIS 1.1.7/1.1.8 judge: root:root 0600 (etcd takes them as flags).</summary>
    public void WriteConfig(EtcdMemberConfig config) => AtomicFile.WriteAllText(Paths.ConfigFile, config.Render(), AtomicFile.Private);

    private static string HostPart(string ip) => IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip;
}

/// <summary>
/// CIS 1.1.12: the etcd data dir is owned by etcd:etcd (its config file stays root:root 0600, CIS 1.1.7/1.1.8: etcd takes its
/// settings as flags). etcd (running as etcd) must also read its own
/// certificates, and pass through the 0700 folders above them: those get group etcd and group search only (0710),
/// never read, so nothing else in the data dir becomes visible to the etcd account.
/// </summary>
public static class EtcdOwnership
{
    public static void Apply(EtcdPaths paths, RunAsUser account)
    {
        var root = new HostRoot("/");
        var uid = HostAccounts.IdOf(root, "/etc/passwd", account.User) ?? throw new InvalidOperationException($"user {account.User} does not exist; run: bulwark hardening apply");
        var gid = HostAccounts.IdOf(root, "/etc/group", account.Group) ?? throw new InvalidOperationException($"group {account.Group} does not exist; run: bulwark hardening apply");
        foreach (var owned in new[] { paths.MemberDir, paths.AccountTlsDir })
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(owned, "*", SearchOption.AllDirectories).Append(owned))
            {
                Chown(entry, uid, gid);
            }
        }
        // etcd may pass through the folders above its own (group execute only); server/tls stays root:root 0700.
        var traverse = AtomicFile.PrivateDirectory | UnixFileMode.GroupExecute;
        foreach (var dir in new[] { paths.DataDir, Path.Combine(paths.DataDir, "server"), paths.DbDir })
        {
            Chown(dir, 0, gid);
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) & AtomicFile.PrivateDirectory | traverse);
        }
    }

    /// <summary>Copies the member's certificates into <see cref="EtcdPaths.AccountTlsDir"/> and points the config at the copies.</summary>
    public static EtcdMemberConfig UseAccountTlsCopies(EtcdPaths paths, EtcdMemberConfig config)
    {
        AtomicFile.EnsureDirectory(paths.AccountTlsDir, AtomicFile.PrivateDirectory);
        string Copy(string source)
        {
            var target = Path.Combine(paths.AccountTlsDir, Path.GetFileName(source));
            AtomicFile.WriteIfChanged(target, File.ReadAllText(source), AtomicFile.Private);
            return target;
        }
        return config with
        {
            TrustedCaFile = Copy(config.TrustedCaFile),
            CertFile = Copy(config.CertFile),
            KeyFile = Copy(config.KeyFile),
            PeerTrustedCaFile = Copy(config.PeerTrustedCaFile),
            PeerCertFile = Copy(config.PeerCertFile),
            PeerKeyFile = Copy(config.PeerKeyFile),
        };
    }

    private static void Chown(string path, int uid, int gid)
    {
        if (LChown(path, uid, gid) != 0)
        {
            throw new IOException($"chown {uid}:{gid} {path} failed (errno {Marshal.GetLastPInvokeError().ToString(CultureInfo.InvariantCulture)}); bulwark server must run as root under this profile");
        }
    }

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int LChown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int uid, int gid);
}
