using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Bulwark.Config;

namespace Bulwark.Pki;

/// <summary>This node's name and addresses, which go into the serving certificates' SANs.</summary>
public sealed record NodeIdentity(string Name, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>node-name (default: the host name) and node-ip/node-external-ip/advertise-address (default: the first address of an interface that is up).</summary>
    public static NodeIdentity Resolve(EffectiveConfig config)
    {
        var name = config.Get(ConfigKeys.NodeName);
        if (name.Length == 0)
        {
            name = Dns.GetHostName().ToLower(CultureInfo.InvariantCulture);
        }
        var addresses = new[] { ConfigKeys.NodeIp, ConfigKeys.NodeExternalIp, ConfigKeys.AdvertiseAddress }
            .Select(config.Get)
            .Where(v => v.Length > 0)
            .Select(IPAddress.Parse)
            .Distinct()
            .ToList();
        if (addresses.Count == 0 && DefaultAddress() is { } detected)
        {
            addresses.Add(detected);
        }
        return new NodeIdentity(name, addresses);
    }

    /// <summary>The first IPv4 address of an interface that is up and has a gateway (RKE2 picks the default route's).</summary>
    private static IPAddress? DefaultAddress()
    {
        var candidates = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .Select(n => (Properties: n.GetIPProperties(), Interface: n))
            .OrderByDescending(p => p.Properties.GatewayAddresses.Count > 0)
            .SelectMany(p => p.Properties.UnicastAddresses.Select(u => u.Address))
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return candidates.FirstOrDefault();
    }
}
