using System.Globalization;
using System.Net;
using Bulwark.Pki;
using Bulwark.Tests.Supervisor;

namespace Bulwark.Tests.Server;

/// <summary>
/// One real `bulwark server` of a multi-server test: its own loopback address (127.0.0.N, so servers do not share
/// ports), free ports, its data dir, and the argv that places it there.
/// </summary>
public sealed record TestServerNode(string Name, IPAddress Ip, string DataDir, int SupervisorPort, int ClientPort, int PeerPort, int MetricsPort)
{
    public static TestServerNode Create(string name, string ip, string dataDir)
    {
        var address = IPAddress.Parse(ip);
        // Free on two different addresses, the same number can come back twice; Bulwark (rightly) refuses a port reused
        // by two of its listeners, whatever their addresses.
        var ports = new List<int>();
        foreach (var on in new[] { address, IPAddress.Loopback, address, IPAddress.Loopback })
        {
            int port;
            do
            {
                port = ClusterHarness.FreePort(on);
            }
            while (ports.Contains(port));
            ports.Add(port);
        }
        return new(name, address, dataDir, ports[0], ports[1], ports[2], ports[3]);
    }

    public Uri Supervisor => new($"https://{Ip}:{SupervisorPort}");
    public Uri Etcd => new($"https://{Ip}:{ClientPort}");
    public ServerPkiPaths Paths => new(DataDir);

    /// <summary>Name, address (a one-host demo: loopback addresses), ports, no scheduled snapshots, then <paramref name="extra"/>.</summary>
    public string[] Args(string? config, params string[] extra) =>
    [
        "--node-name", Name, "--node-ip", Ip.ToString(), "--single-host-demo", "--bind-address", Ip.ToString(),
        "--supervisor-port", Str(SupervisorPort), "--etcd-client-port", Str(ClientPort),
        "--etcd-peer-port", Str(PeerPort), "--etcd-metrics-port", Str(MetricsPort),
        .. config is null ? Array.Empty<string>() : ["--config", config], "--etcd-disable-snapshots",
        .. extra,
    ];

    public static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
