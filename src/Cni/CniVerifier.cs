using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Bulwark.ControlPlane;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Cni;

/// <summary>
/// <c>bulwark cni verify</c>: validates the node's active CNI configuration and then runs its plugin chain for real in
/// a scratch network namespace (ADD, result checks, CHECK, DEL per the CNI specification), and proves nothing was left
/// behind. Plugins that are not installed are validated only and reported as not run.
/// </summary>
public sealed class CniVerifier(CniSpecContract contract, Action<CniVerifyStep>? onStep = null)
{
    private const string DefaultIpamDataDir = "/var/lib/cni/networks";
    private static readonly string[] ConfigExtensions = [".conf", ".conflist", ".json"];

    private readonly List<CniVerifyStep> _steps = [];

    public async Task<CniVerifyReport> VerifyAsync(CniVerifyOptions options, CancellationToken cancellationToken)
    {
        _steps.Clear();
        var validator = new CniNetworkValidator(contract, options.BinDirs, options.ClusterCidrs, options.ServiceCidrs);
        var active = ActiveConfig(options.ConfDir);
        if (active is null)
        {
            Add(new("-", "active config", CniStepStatus.Failed, $"no CNI configuration (*.conf, *.conflist, *.json) in {options.ConfDir}",
                "deploy a CNI (cni: canal, the default), or point --cni-conf-dir at the folder your CNI writes"));
            return Report(options, null);
        }
        CheckFileModes(options.ConfDir);

        var networks = new List<(CniNetwork Network, string IfName)>();
        try
        {
            var network = CniNetwork.Load(active);
            Add(new(network.Name, "active config", CniStepStatus.Passed, $"{active} ({string.Join(" → ", network.PluginTypes)})"));
            if (network.PluginTypes.FirstOrDefault() == "multus")
            {
                AddAll(validator.Validate(network, primary: false, out _));
                network = MultusDelegate(network, options.ConfDir);
                Add(new(network.Name, "multus delegate", CniStepStatus.Passed, $"primary network {network.Name} ({string.Join(" → ", network.PluginTypes)})"));
            }
            networks.Add((network, "eth0"));
            var i = 1;
            foreach (var attachment in options.Attachments)
            {
                networks.Add((LoadAttachment(attachment), $"net{i++}"));
            }
        }
        catch (CniConfigException e)
        {
            Add(new("-", "config", CniStepStatus.Failed, e.Message, e.Fix));
            return Report(options, active);
        }

        var runnable = new List<(CniNetwork Network, string IfName)>();
        foreach (var (network, ifName) in networks)
        {
            var steps = validator.Validate(network, primary: ifName == "eth0", out var absent);
            AddAll(steps);
            if (absent.Count == 0 && steps.All(s => s.Status != CniStepStatus.Failed))
            {
                runnable.Add((network, ifName));
            }
            else if (absent.Count == 0)
            {
                Add(new(network.Name, "run", CniStepStatus.NotRun, "not run: the configuration has errors (above)"));
            }
        }
        if (runnable.Count > 0)
        {
            await RunAsync(runnable, validator, options, cancellationToken).ConfigureAwait(false);
        }
        return Report(options, active);
    }

    /// <summary>The runtime's choice: the lexically first config file in the folder (containerd and libcni sort by name).</summary>
    public static string? ActiveConfig(string confDir) =>
        Directory.Exists(confDir)
            ? Directory.EnumerateFiles(confDir).Where(f => ConfigExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).FirstOrDefault()
            : null;

    private async Task RunAsync(List<(CniNetwork Network, string IfName)> networks, CniNetworkValidator validator, CniVerifyOptions options, CancellationToken cancellationToken)
    {
        var containerId = "bulwark-verify-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var before = await HostNetworkState.CaptureAsync(cancellationToken).ConfigureAwait(false);
        var added = new List<(CniNetwork Network, string IfName, JsonObject? Result)>();
        await using (var ns = await NetworkNamespace.CreateAsync("bulwark-cni", cancellationToken).ConfigureAwait(false))
        {
            Add(new("-", "sandbox", CniStepStatus.Passed, $"network namespace {ns.Name}, container id {containerId}"));
            try
            {
                foreach (var (network, ifName) in networks)
                {
                    var result = await AddAsync(network, ifName, ns, containerId, validator, options, cancellationToken).ConfigureAwait(false);
                    added.Add((network, ifName, result));
                    if (result is not null)
                    {
                        await CheckResultAsync(network, ifName, result, ns, cancellationToken).ConfigureAwait(false);
                    }
                }
                foreach (var (network, ifName, result) in added.Where(a => a.Result is not null))
                {
                    await CheckAsync(network, ifName, result!, ns, containerId, validator, options, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                // DEL every network that was (even partly) added, last first, with the same runtimeConfig as ADD.
                foreach (var (network, ifName, result) in Enumerable.Reverse(added))
                {
                    await DelAsync(network, ifName, result, ns, containerId, validator, options, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        await CheckLeftoversAsync(added, before, containerId, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<JsonObject?> AddAsync(CniNetwork network, string ifName, NetworkNamespace ns, string containerId, CniNetworkValidator validator,
        CniVerifyOptions options, CancellationToken cancellationToken)
    {
        JsonObject? previous = null;
        foreach (var plugin in network.Plugins)
        {
            var type = CniNetwork.String(plugin, "type")!;
            var call = new CniPluginCall(validator.FindPlugin(type)!, "ADD", containerId, ns.Path, ifName, options.BinDirs);
            var outcome = await call.RunAsync(PluginConfig(network, plugin, previous, options), cancellationToken).ConfigureAwait(false);
            if (!outcome.Ok)
            {
                Add(new(network.Name, $"ADD {type}", CniStepStatus.Failed, outcome.Error, FixFor(type, outcome.Error)));
                return null;
            }
            previous = outcome.Result ?? previous;
        }
        var ips = previous?["ips"] is JsonArray list ? string.Join(", ", list.Select(ip => ip?["address"]?.GetValue<string>())) : "no addresses";
        Add(new(network.Name, "ADD", CniStepStatus.Passed, $"{string.Join(" → ", network.PluginTypes)} on {ifName}: {ips}"));
        return previous;
    }

    private async Task CheckAsync(CniNetwork network, string ifName, JsonObject result, NetworkNamespace ns, string containerId, CniNetworkValidator validator,
        CniVerifyOptions options, CancellationToken cancellationToken)
    {
        if (!contract.SupportsCheck(network.CniVersion))
        {
            Add(new(network.Name, "CHECK", CniStepStatus.Warning, $"cniVersion {network.CniVersion} has no CHECK (from {contract.CheckSince} on)",
                $"set cniVersion {contract.SupportedVersions[^1]} so runtimes can verify a pod's network"));
            return;
        }
        var failed = false;
        foreach (var plugin in network.Plugins)
        {
            var type = CniNetwork.String(plugin, "type")!;
            var call = new CniPluginCall(validator.FindPlugin(type)!, "CHECK", containerId, ns.Path, ifName, options.BinDirs);
            var outcome = await call.RunAsync(PluginConfig(network, plugin, result, options), cancellationToken).ConfigureAwait(false);
            if (outcome.Ok)
            {
                continue;
            }
            if (type == "portmap" && outcome.Error.Contains("ipv6", StringComparison.OrdinalIgnoreCase) && !HasIpv6(result))
            {
                // containernetworking/plugins 1.1.1: portmap CHECK also looks for its IPv6 DNAT chain on an IPv4-only pod.
                Add(new(network.Name, "CHECK portmap", CniStepStatus.Known,
                    $"portmap's CHECK looks for IPv6 chains on this IPv4-only pod ({outcome.Error}); a known plugin behaviour, not the node's fault"));
                continue;
            }
            failed = true;
            Add(new(network.Name, $"CHECK {type}", CniStepStatus.Failed, outcome.Error, FixFor(type, outcome.Error)));
        }
        if (!failed)
        {
            Add(new(network.Name, "CHECK", CniStepStatus.Passed, $"every plugin confirmed the {ifName} network"));
        }
    }

    private async Task DelAsync(CniNetwork network, string ifName, JsonObject? result, NetworkNamespace ns, string containerId, CniNetworkValidator validator,
        CniVerifyOptions options, CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var plugin in network.Plugins.Reverse())
        {
            var type = CniNetwork.String(plugin, "type")!;
            var call = new CniPluginCall(validator.FindPlugin(type)!, "DEL", containerId, ns.Path, ifName, options.BinDirs);
            var outcome = await call.RunAsync(PluginConfig(network, plugin, result, options), cancellationToken).ConfigureAwait(false);
            if (!outcome.Ok)
            {
                failures++;
                Add(new(network.Name, $"DEL {type}", CniStepStatus.Failed, outcome.Error, "DEL must succeed even for half-made networks (CNI spec); upgrade or fix the plugin"));
            }
        }
        if (failures == 0)
        {
            Add(new(network.Name, "DEL", CniStepStatus.Passed, $"{string.Join(" ← ", network.PluginTypes.Reverse())} (with ADD's runtimeConfig, so portmap removes its mappings)"));
        }
    }

    /// <summary>The interface, addresses and routes ADD reported are really in the namespace.</summary>
    private async Task CheckResultAsync(CniNetwork network, string ifName, JsonObject result, NetworkNamespace ns, CancellationToken cancellationToken)
    {
        var addresses = JsonNode.Parse((await ns.IpJsonAsync(["addr", "show"], cancellationToken).ConfigureAwait(false)).StandardOutput) as JsonArray ?? [];
        var onLink = addresses.Where(l => l?["ifname"]?.GetValue<string>() == ifName)
            .SelectMany(l => l?["addr_info"] as JsonArray ?? []).Select(a => $"{a?["local"]}/{a?["prefixlen"]}").ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        if (!addresses.Any(l => l?["ifname"]?.GetValue<string>() == ifName))
        {
            problems.Add($"interface {ifName} is missing from the namespace");
        }
        var interfaces = result["interfaces"] as JsonArray ?? [];
        foreach (var ip in result["ips"] as JsonArray ?? [])
        {
            var address = ip?["address"]?.GetValue<string>() ?? "";
            var index = ip?["interface"]?.GetValue<int>();
            var inSandbox = index is { } n && n < interfaces.Count && interfaces[n]?["sandbox"] is not null;
            if (inSandbox && !onLink.Contains(address))
            {
                problems.Add($"address {address} reported by ADD is not on {ifName} (has: {string.Join(", ", onLink)})");
            }
        }
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in new[] { "-4", "-6" })
        {
            var shown = await NetworkNamespace.IpAsync(["-n", ns.Name, "-j", family, "route", "show"], cancellationToken).ConfigureAwait(false);
            foreach (var route in JsonNode.Parse(shown.StandardOutput) as JsonArray ?? [])
            {
                routes.Add(route?["dst"]?.GetValue<string>() ?? "");
            }
        }
        foreach (var route in result["routes"] as JsonArray ?? [])
        {
            var dst = route?["dst"]?.GetValue<string>() ?? "";
            var shownAs = dst is "0.0.0.0/0" or "::/0" ? "default" : dst.EndsWith("/32", StringComparison.Ordinal) || dst.EndsWith("/128", StringComparison.Ordinal) ? dst[..dst.LastIndexOf('/')] : dst;
            if (!routes.Contains(shownAs))
            {
                problems.Add($"route {dst} reported by ADD is not in the namespace");
            }
        }
        Add(problems.Count == 0
            ? new(network.Name, "result", CniStepStatus.Passed, $"{ifName} has {string.Join(", ", onLink)}; {(result["routes"] as JsonArray)?.Count ?? 0} routes present")
            : new(network.Name, "result", CniStepStatus.Failed, string.Join("; ", problems), "the plugin's result does not match the namespace; check the plugin version and config"));
    }

    private async Task CheckLeftoversAsync(List<(CniNetwork Network, string IfName, JsonObject? Result)> added, HostNetworkState before, string containerId,
        CancellationToken cancellationToken)
    {
        var after = await HostNetworkState.CaptureAsync(cancellationToken).ConfigureAwait(false);
        var leftovers = new List<string>();
        leftovers.AddRange(after.RulesOf(containerId).Select(r => $"iptables rule {r}"));
        foreach (var (network, _, result) in added)
        {
            foreach (var plugin in network.Plugins)
            {
                if (plugin["ipam"] is JsonObject ipam && CniNetwork.String(ipam, "type") == "host-local")
                {
                    leftovers.AddRange(HostNetworkState.IpamAllocations(CniNetwork.String(ipam, "dataDir") ?? DefaultIpamDataDir, network.Name, containerId)
                        .Select(f => $"IPAM allocation {f}"));
                }
            }
            foreach (var hostInterface in (result?["interfaces"] as JsonArray ?? []).Where(i => i?["sandbox"] is null).Select(i => i?["name"]?.GetValue<string>() ?? ""))
            {
                if (before.Interfaces.Contains(hostInterface) || !after.Interfaces.Contains(hostInterface))
                {
                    continue;
                }
                if (await RemoveIdleBridgeAsync(hostInterface).ConfigureAwait(false))
                {
                    Add(new(network.Name, "cleanup", CniStepStatus.Known,
                        $"bridge {hostInterface} was created by this run and the bridge plugin never removes bridges; verify removed it (it had no ports left)"));
                }
                else
                {
                    leftovers.Add($"interface {hostInterface}");
                }
            }
        }
        var sharedChains = after.Chains.Except(before.Chains).Where(c => c.Contains("/CNI-HOSTPORT-", StringComparison.Ordinal)).ToList();
        if (sharedChains.Count > 0)
        {
            Add(new("-", "cleanup", CniStepStatus.Known,
                $"portmap's shared chains {string.Join(", ", sharedChains)} stay after the last pod (the plugin never removes them); they hold no rules of this run"));
        }
        Add(leftovers.Count == 0
            ? new("-", "cleanup", CniStepStatus.Passed, $"nothing left behind by {containerId}: no interfaces, iptables rules or IPAM allocations")
            : new("-", "cleanup", CniStepStatus.Failed, $"left behind: {string.Join("; ", leftovers)}",
                "a plugin's DEL did not undo its ADD; remove these by hand and check the plugin version (pods on this node would leak the same way)"));
    }

    /// <summary>Removes a bridge this run created once nothing is attached to it (the bridge plugin leaves bridges by design).</summary>
    private static async Task<bool> RemoveIdleBridgeAsync(string name)
    {
        var details = await Processes.ProcessRunner.RunAsync(new Processes.ProcessSpec(NetworkNamespace.IpProgram, ["-j", "-d", "link", "show", "dev", name])).ConfigureAwait(false);
        var isBridge = details.Succeeded && JsonNode.Parse(details.StandardOutput) is JsonArray { Count: 1 } link && link[0]?["linkinfo"]?["info_kind"]?.GetValue<string>() == "bridge";
        if (!isBridge)
        {
            return false;
        }
        var ports = await Processes.ProcessRunner.RunAsync(new Processes.ProcessSpec(NetworkNamespace.IpProgram, ["-j", "link", "show", "master", name])).ConfigureAwait(false);
        if (!ports.Succeeded || (JsonNode.Parse(ports.StandardOutput) as JsonArray)?.Count > 0)
        {
            return false;
        }
        return (await Processes.ProcessRunner.RunAsync(new Processes.ProcessSpec(NetworkNamespace.IpProgram, ["link", "delete", name, "type", "bridge"])).ConfigureAwait(false)).Succeeded;
    }

    /// <summary>The stdin of one plugin: its own config plus the network's name and version, runtimeConfig for its capabilities, prevResult.</summary>
    private static JsonObject PluginConfig(CniNetwork network, JsonObject plugin, JsonObject? previous, CniVerifyOptions options)
    {
        var config = (JsonObject)plugin.DeepClone();
        config["name"] = network.Name;
        config["cniVersion"] = network.CniVersion;
        var runtime = new JsonObject();
        if (plugin["capabilities"] is JsonObject capabilities)
        {
            if (capabilities["portMappings"]?.GetValue<bool>() == true)
            {
                runtime["portMappings"] = new JsonArray(new JsonObject { ["hostPort"] = options.HostPort, ["containerPort"] = 8080, ["protocol"] = "tcp" });
            }
            if (capabilities["bandwidth"]?.GetValue<bool>() == true)
            {
                runtime["bandwidth"] = new JsonObject { ["ingressRate"] = 10_000_000, ["ingressBurst"] = 1_000_000, ["egressRate"] = 10_000_000, ["egressBurst"] = 1_000_000 };
            }
        }
        if (runtime.Count > 0)
        {
            config["runtimeConfig"] = runtime;
        }
        if (previous is not null)
        {
            config["prevResult"] = previous.DeepClone();
        }
        return config;
    }

    private static bool HasIpv6(JsonObject result) =>
        (result["ips"] as JsonArray ?? []).Any(ip => ip?["address"]?.GetValue<string>().Contains(':') == true);

    private static string FixFor(string type, string error) =>
        error.Contains("iptables", StringComparison.OrdinalIgnoreCase)
            ? "install iptables (portmap and bridge ipMasq need it), then rerun"
            : $"read the {type} plugin's message above; check its config in the conflist and the plugin version";

    private CniNetwork MultusDelegate(CniNetwork multus, string confDir)
    {
        var plugin = multus.Plugins[0];
        Add(new(multus.Name, "multus", CniStepStatus.NotRun, "not run: plugin absent (multus); its delegate (the primary network) is verified on its own"));
        if (plugin["delegates"] is JsonArray { Count: > 0 } delegates && delegates[0] is JsonObject first)
        {
            return CniNetwork.FromObject(first, $"{multus.Source} delegates[0]");
        }
        var clusterNetwork = CniNetwork.String(plugin, "clusterNetwork") ?? "";
        var path = Path.IsPathRooted(clusterNetwork) ? clusterNetwork
            : Directory.EnumerateFiles(confDir).Where(f => ConfigExtensions.Contains(Path.GetExtension(f)) && f != multus.Source)
                .Order(StringComparer.Ordinal).FirstOrDefault(f => TryName(f) == clusterNetwork);
        return path is not null && File.Exists(path)
            ? CniNetwork.Load(path)
            : throw new CniConfigException($"{multus.Source}: clusterNetwork \"{clusterNetwork}\" names no network in {confDir}", "point clusterNetwork at the primary conflist (its name or path)");
    }

    private static string? TryName(string file)
    {
        try
        {
            return CniNetwork.Load(file).Name;
        }
        catch (CniConfigException)
        {
            return null;
        }
    }

    /// <summary>A secondary network: CNI JSON, or a NetworkAttachmentDefinition whose spec.config holds the CNI JSON.</summary>
    private static CniNetwork LoadAttachment(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path) : throw new CniConfigException($"{path}: not found", "give the path of a CNI config or NetworkAttachmentDefinition");
        if (text.TrimStart().StartsWith('{'))
        {
            return CniNetwork.Parse(text, path);
        }
        var documents = new YamlNodes.Reader(path, message => new CniConfigException(message, "fix the YAML syntax")).ParseDocuments(text);
        if (documents.FirstOrDefault() is YamlMappingNode root && root["kind"] is YamlScalarNode { Value: "NetworkAttachmentDefinition" }
            && root.Children.TryGetValue(new YamlScalarNode("spec"), out var spec) && spec is YamlMappingNode specMap
            && specMap.Children.TryGetValue(new YamlScalarNode("config"), out var config) && config is YamlScalarNode { Value: { } json })
        {
            return CniNetwork.Parse(json, $"{path} spec.config");
        }
        throw new CniConfigException($"{path}: not a NetworkAttachmentDefinition with spec.config", "give spec.config as the CNI JSON of the secondary network");
    }

    private void CheckFileModes(string confDir)
    {
        foreach (var file in Directory.EnumerateFiles(confDir).Order(StringComparer.Ordinal))
        {
            if (contract.FileModeExceptions.Contains(Path.GetFileName(file)))
            {
                continue;
            }
            var mode = File.GetUnixFileMode(file);
            if ((mode & ~contract.FileMode) != 0)
            {
                Add(new("-", "file mode", CniStepStatus.Failed,
                    $"{file} has mode {Convert.ToString((int)mode, 8)}; {string.Join("/", contract.FileModeControls)} require {Convert.ToString((int)contract.FileMode, 8)} or stricter",
                    $"chmod {Convert.ToString((int)contract.FileMode, 8)} {file}"));
            }
        }
    }

    private void Add(CniVerifyStep step)
    {
        _steps.Add(step);
        onStep?.Invoke(step);
    }

    private void AddAll(IEnumerable<CniVerifyStep> steps)
    {
        foreach (var step in steps)
        {
            Add(step);
        }
    }

    private CniVerifyReport Report(CniVerifyOptions options, string? active) => new(options.ConfDir, active, options.BinDirs, [.. _steps]);
}
