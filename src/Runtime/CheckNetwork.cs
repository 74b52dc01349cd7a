using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;

namespace Bulwark.Runtime;

/// <summary>
/// The node check's own network, for nodes whose CNI provider is not installed yet: a bridge + host-local + portmap
/// conflist from the standard plugins, named "bulwark-node-check" and written as 99-bulwark-node-check.conflist so it
/// is never mistaken for the cluster's network; removed when the check ends. Pod addresses come from the first /24 of
/// the pod CIDR (cluster-cidr).
/// </summary>
public sealed record CheckNetwork(string FileName, string NetworkName, string Bridge, string Subnet, string IpamDataDir)
{
    public const string Label = "bulwark-node-check";

    /// <summary>The check's bridges are named this and a suffix (killall removes any left by a killed check).</summary>
    public const string BridgePrefix = "bwck";

    public static CheckNetwork For(RuntimePaths paths, string clusterCidr)
    {
        var suffix = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(paths.DataDir)))[..8];
        return new CheckNetwork("99-bulwark-node-check.conflist", Label, BridgePrefix + suffix, FirstSubnet(clusterCidr), Path.Combine(paths.AgentDir, "node-check-ipam"));
    }

    /// <summary>The conflist: CNI spec 0.4.0, bridge with masquerade, host-local IPAM, portmap for hostPort.</summary>
    public string Render()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", "0.4.0");
            w.WriteString("name", NetworkName);
            w.WriteStartArray("plugins");
            w.WriteStartObject();
            w.WriteString("type", "bridge");
            w.WriteString("bridge", Bridge);
            w.WriteBoolean("isGateway", true);
            w.WriteBoolean("ipMasq", true);
            w.WriteStartObject("ipam");
            w.WriteString("type", "host-local");
            w.WriteString("subnet", Subnet);
            w.WriteString("dataDir", IpamDataDir);
            w.WriteStartArray("routes");
            w.WriteStartObject();
            w.WriteString("dst", "0.0.0.0/0");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "portmap");
            w.WriteStartObject("capabilities");
            w.WriteBoolean("portMappings", true);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string[] Plugins => ["bridge", "host-local", "portmap", "loopback"];

    private static string FirstSubnet(string cidr)
    {
        var network = IPNetwork.Parse(cidr);
        return network.PrefixLength >= 24 ? network.ToString() : $"{network.BaseAddress}/24";
    }
}
