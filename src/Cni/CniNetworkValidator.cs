using System.Net;
using System.Text.Json.Nodes;

namespace Bulwark.Cni;

/// <summary>
/// Checks a network configuration against the CNI specification and the cluster before anything runs: cniVersion,
/// name, plugin chain, capabilities, IPAM ranges against the cluster and service CIDRs, and which plugins are installed.
/// </summary>
public sealed class CniNetworkValidator(CniSpecContract contract, IReadOnlyList<string> binDirs, IReadOnlyList<IPNetwork> clusterCidrs, IReadOnlyList<IPNetwork> serviceCidrs)
{
    /// <summary>The static steps; <paramref name="absent"/> receives the plugin types (and IPAM types) not found in the bin dirs.</summary>
    public List<CniVerifyStep> Validate(CniNetwork network, bool primary, out List<string> absent)
    {
        var steps = new List<CniVerifyStep>();
        var name = network.Name;
        void Fail(string step, string detail, string fix) => steps.Add(new CniVerifyStep(name, step, CniStepStatus.Failed, detail, fix));

        if (!contract.SupportedVersions.Contains(network.CniVersion))
        {
            Fail("cniVersion", $"{network.Source}: cniVersion \"{network.CniVersion}\" is not one the installed plugins speak ({string.Join(", ", contract.SupportedVersions)})",
                $"set \"cniVersion\": \"{contract.SupportedVersions[^1]}\"");
        }
        else
        {
            steps.Add(new CniVerifyStep(name, "cniVersion", CniStepStatus.Passed, network.CniVersion));
        }
        if (!contract.NamePattern.IsMatch(name))
        {
            Fail("name", $"{network.Source}: network name \"{name}\" does not match {contract.NamePattern}", "use letters, digits, '.', '_' and '-'");
        }
        if (network.Plugins.Count == 0)
        {
            Fail("plugins", $"{network.Source}: the plugin chain is empty", "list at least one plugin under \"plugins\"");
        }

        absent = [];
        var index = 0;
        foreach (var plugin in network.Plugins)
        {
            var type = CniNetwork.String(plugin, "type");
            var at = $"plugins[{index++}]";
            if (string.IsNullOrEmpty(type))
            {
                Fail("plugins", $"{network.Source}: {at} has no \"type\"", "name the plugin binary in \"type\"");
                continue;
            }
            if (plugin["capabilities"] is JsonObject capabilities)
            {
                foreach (var (capability, _) in capabilities.Where(c => !contract.Capabilities.Contains(c.Key)))
                {
                    steps.Add(new CniVerifyStep(name, "capabilities", CniStepStatus.Warning,
                        $"{type}: capability \"{capability}\" is not a well-known one; runtimes will not supply it", "remove it or check the spelling"));
                }
            }
            foreach (var binary in new[] { type, (plugin["ipam"] as JsonObject) is { } ipam ? CniNetwork.String(ipam, "type") : null })
            {
                if (!string.IsNullOrEmpty(binary) && FindPlugin(binary) is null && !absent.Contains(binary))
                {
                    absent.Add(binary);
                }
            }
            if (type == "multus")
            {
                ValidateMultus(network, plugin, Fail);
            }
        }
        steps.Add(new CniVerifyStep(name, "plugin chain", absent.Count == 0 ? CniStepStatus.Passed : CniStepStatus.NotRun,
            absent.Count == 0
                ? string.Join(" → ", network.PluginTypes)
                : $"not run: plugin absent ({string.Join(", ", absent)}; looked in {string.Join(", ", binDirs)}); the configuration was validated only"));

        ValidateRanges(network, primary, Fail, steps);
        return steps;
    }

    public string? FindPlugin(string type) =>
        type.Contains('/') ? null : binDirs.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists);

    private static void ValidateMultus(CniNetwork network, JsonObject plugin, Action<string, string, string> fail)
    {
        var hasDelegates = plugin["delegates"] is JsonArray { Count: > 0 } delegates && delegates.All(d => d is JsonObject);
        var hasClusterNetwork = CniNetwork.String(plugin, "clusterNetwork") is { Length: > 0 };
        if (!hasDelegates && !hasClusterNetwork)
        {
            fail("multus delegate", $"{network.Source}: multus has neither \"delegates\" nor \"clusterNetwork\"",
                "give the primary network as delegates[0] (the primary conflist) or clusterNetwork (its name or file)");
        }
    }

    private void ValidateRanges(CniNetwork network, bool primary, Action<string, string, string> fail, List<CniVerifyStep> steps)
    {
        var subnets = network.IpamSubnets().ToList();
        for (var i = 0; i < subnets.Count; i++)
        {
            for (var j = i + 1; j < subnets.Count; j++)
            {
                if (Overlaps(subnets[i].Subnet, subnets[j].Subnet))
                {
                    fail("ipam", $"{network.Source}: IPAM range {subnets[i].Subnet} overlaps {subnets[j].Subnet}", "give each range its own subnet");
                }
            }
            foreach (var service in serviceCidrs.Where(s => Overlaps(s, subnets[i].Subnet)))
            {
                fail("ipam", $"{network.Source}: IPAM range {subnets[i].Subnet} overlaps the service CIDR {service}", "take pod ranges from cluster-cidr, apart from service-cidr");
            }
            var family = subnets[i].Subnet.BaseAddress.AddressFamily;
            var clusterOfFamily = clusterCidrs.Where(c => c.BaseAddress.AddressFamily == family).ToList();
            if (primary && clusterOfFamily.Count > 0 && !clusterOfFamily.Any(c => Within(subnets[i].Subnet, c)))
            {
                fail("ipam", $"{network.Source}: IPAM range {subnets[i].Subnet} is outside cluster-cidr {string.Join(",", clusterOfFamily)}",
                    "take the node's pod range from cluster-cidr (or set cluster-cidr to include it)");
            }
        }
        if (subnets.Count > 0)
        {
            steps.Add(new CniVerifyStep(network.Name, "ipam ranges", CniStepStatus.Passed, string.Join(", ", subnets.Select(s => s.Subnet))));
        }
    }

    private static bool Within(IPNetwork inner, IPNetwork outer) => outer.Contains(inner.BaseAddress) && inner.PrefixLength >= outer.PrefixLength;

    private static bool Overlaps(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);
}
