using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bulwark.Cni;

/// <summary>
/// One network configuration as the runtime reads it: a .conflist (plugins chained) or a single-plugin .conf, which is
/// treated as a list of one. Plugin configs are kept as JSON objects because each plugin defines its own fields.
/// </summary>
public sealed record CniNetwork(string Source, string CniVersion, string Name, IReadOnlyList<JsonObject> Plugins)
{
    public IEnumerable<string> PluginTypes => Plugins.Select(p => p["type"]?.GetValue<string>() ?? "");

    /// <summary>Reads a conf/conflist file; a file that is not JSON or lacks the basic shape is a <see cref="CniConfigException"/>.</summary>
    public static CniNetwork Load(string path) => Parse(File.ReadAllText(path), path);

    public static CniNetwork Parse(string json, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CniConfigException($"{source}:{e.LineNumber + 1}: not valid JSON: {e.Message}", "fix the JSON syntax");
        }
        return FromObject(node as JsonObject ?? throw new CniConfigException($"{source}: expected a JSON object", "a conflist is {\"cniVersion\", \"name\", \"plugins\": [...]}"), source);
    }

    public static CniNetwork FromObject(JsonObject root, string source)
    {
        var version = String(root, "cniVersion") ?? throw new CniConfigException($"{source}: cniVersion is missing", "set \"cniVersion\": \"1.0.0\"");
        var name = String(root, "name") ?? throw new CniConfigException($"{source}: name is missing", "give the network a \"name\"");
        IReadOnlyList<JsonObject> plugins;
        if (root["plugins"] is JsonArray list)
        {
            plugins = list.Select((p, i) => p as JsonObject ?? throw new CniConfigException($"{source}: plugins[{i}] is not an object", "each plugin is {\"type\": ...}")).ToList();
        }
        else if (root["plugins"] is not null)
        {
            throw new CniConfigException($"{source}: plugins must be a list", "write \"plugins\": [{\"type\": \"bridge\", ...}]");
        }
        else
        {
            // A single-plugin .conf: the object itself is the plugin.
            plugins = [root];
        }
        return new CniNetwork(source, version, name, plugins);
    }

    /// <summary>The subnets of host-local (or static) IPAM across the chain, for range checks.</summary>
    public IEnumerable<(string Plugin, IPNetwork Subnet)> IpamSubnets()
    {
        foreach (var plugin in Plugins)
        {
            if (plugin["ipam"] is not JsonObject ipam)
            {
                continue;
            }
            var type = plugin["type"]?.GetValue<string>() ?? "";
            if (ipam["ranges"] is JsonArray sets)
            {
                foreach (var range in sets.OfType<JsonArray>().SelectMany(s => s.OfType<JsonObject>()))
                {
                    if (String(range, "subnet") is { } subnet && IPNetwork.TryParse(subnet, out var network))
                    {
                        yield return (type, network);
                    }
                }
            }
            if (String(ipam, "subnet") is { } single && IPNetwork.TryParse(single, out var legacy))
            {
                yield return (type, legacy);
            }
        }
    }

    internal static string? String(JsonObject map, string key) =>
        map[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>A CNI configuration is wrong: what and where, and how to fix it.</summary>
public sealed class CniConfigException(string message, string fix) : Diagnostics.BulwarkException(Diagnostics.ErrorKind.Usage, message)
{
    public string Fix { get; } = fix;
}
