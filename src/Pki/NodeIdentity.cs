using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.Config;

namespace Bulwark.Pki;

/// <summary>
/// This node's name and addresses: the one resolution every capability uses (certificate SANs, the address etcd
/// advertises, the control plane's node-ip), so they can never disagree.
/// </summary>
public sealed record NodeIdentity(string Name, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>The address the node advertises: node-ip, else advertise-address, else node-external-ip, else the default route's.</summary>
    public string PrimaryAddress => Addresses.Count > 0 ? Addresses[0].ToString() : IPAddress.Loopback.ToString();

    /// <summary>
    /// Whether the name differs from the one the kubelet would take itself (the host name, lowercased), so the kubelet
    /// must be told it with --hostname-override (a finding under STIG V-242404 and CIS 1.23 4.2.8: the operator's choice).
    /// </summary>
    public bool OverridesHostname => Name != HostName();

    private static string HostName() => Dns.GetHostName().ToLower(CultureInfo.InvariantCulture);

    /// <summary>bind-address when it names one address (not 0.0.0.0 or ::): then the apiserver listens only there.</summary>
    public static IPAddress? SpecificBindAddress(EffectiveConfig config) =>
        IPAddress.Parse(config.Get(ConfigKeys.BindAddress)) is { } bind && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any) ? bind : null;

    /// <summary>node-name (default: the host name, lowercased) and the configured addresses in advertising order.</summary>
    public static NodeIdentity Resolve(EffectiveConfig config)
    {
        var name = config.Get(ConfigKeys.NodeName);
        if (name.Length == 0)
        {
            name = HostName();
        }
        var addresses = new[] { ConfigKeys.NodeIp, ConfigKeys.AdvertiseAddress, ConfigKeys.NodeExternalIp }
            .Select(config.Get)
            .Where(v => v.Length > 0)
            .Select(IPAddress.Parse)
            .Distinct()
            .ToList();
        if (addresses.Count == 0 && DefaultRouteAddress() is { } detected)
        {
            addresses.Add(detected);
        }
        return new NodeIdentity(name, addresses);
    }

    /// <summary>The address a default route leaves from, as RKE2 picks it (a UDP connect sends no packet); null without a route.</summary>
    private static IPAddress? DefaultRouteAddress()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 9));
            var address = ((IPEndPoint)socket.LocalEndPoint!).Address;
            return IPAddress.IsLoopback(address) ? null : address;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
