using Bulwark.Diagnostics;
using Tomlyn.Model;

namespace Bulwark.Runtime;

/// <summary>One certs.d/&lt;dir&gt;/hosts.toml to write.</summary>
public sealed record HostsFile(string Directory, string Content);

/// <summary>What registries.yaml becomes for containerd 1.6: hosts.toml files, the auth that stays in config.toml, and warnings.</summary>
public sealed record RegistryConfiguration(IReadOnlyList<HostsFile> HostsFiles, IReadOnlyDictionary<string, RegistryAuth> Auths, IReadOnlyList<string> Warnings);

/// <summary>
/// Maps RKE2's registries.yaml onto containerd 1.6.20's registry host configuration (certs.d/&lt;host&gt;/hosts.toml),
/// around its traps: a file without a [host] table is ignored, so every file has one; <c>server</c> does not inherit a
/// [host] table's <c>ca</c>, so the server's TLS is written at the top level too; <c>rewrite</c> is not supported, so
/// it is a warning naming the line; and mirrors/TLS never go into config.toml (with config_path they disable CRI),
/// only auth does.
/// </summary>
public static class RegistryHosts
{
    public static RegistryConfiguration Render(RegistriesFile registries, bool disableDefaultEndpoint, string sourcePath)
    {
        var files = new List<HostsFile>();
        var warnings = new List<string>();
        foreach (var (host, mirror) in registries.Mirrors)
        {
            if (mirror.Rewrite.Count > 0)
            {
                warnings.Add($"{sourcePath}:{mirror.Line}: mirrors.{host}.rewrite is not supported by containerd 1.6 (its hosts.toml has no rewrite); " +
                    "images are requested under their original names. Mirror them under the same repository paths, or remove the rewrite.");
            }
            var endpoints = mirror.Endpoints.ToList();
            string server;
            if (disableDefaultEndpoint || host == "*")
            {
                if (endpoints.Count == 0)
                {
                    throw new BulwarkException(ErrorKind.Usage,
                        $"{sourcePath}:{mirror.Line}: mirrors.{host} has no endpoint and the default endpoint is disabled " +
                        (host == "*" ? "(\"*\" has no default)" : "(disable-default-registry-endpoint)") + ": nothing could be pulled. Add an endpoint.");
                }
                // The root entry is always tried last by containerd; making it the last mirror keeps the upstream out.
                server = endpoints[^1];
                endpoints.RemoveAt(endpoints.Count - 1);
            }
            else
            {
                server = DefaultEndpoint(host);
            }
            files.Add(new HostsFile(DirectoryFor(host), HostsToml(server, endpoints, registries.Configs)));
        }
        // Hosts with only TLS settings (no mirror): their own file, so pulls from them use the CA or client certificate.
        foreach (var (host, config) in registries.Configs)
        {
            if (config.Tls is not null && host != "*" && !registries.Mirrors.ContainsKey(host))
            {
                files.Add(new HostsFile(DirectoryFor(host), HostsToml(DefaultEndpoint(host), [], registries.Configs)));
            }
        }
        var auths = registries.Configs.Where(c => c.Value.Auth is not null && c.Key != "*").ToDictionary(c => c.Key, c => c.Value.Auth!, StringComparer.Ordinal);
        if (registries.Configs.TryGetValue("*", out var wildcard) && wildcard.Auth is not null)
        {
            warnings.Add($"{sourcePath}: configs.\"*\".auth is not supported by containerd 1.6 (auth is per host); give each registry host its own auth.");
        }
        return new RegistryConfiguration(files, auths, warnings);
    }

    /// <summary>certs.d folder name: the host[:port] itself, or _default for the "*" wildcard.</summary>
    public static string DirectoryFor(string host) => host == "*" ? "_default" : host;

    public static string DefaultEndpoint(string host) => host == ImageReference.DockerHub ? "https://registry-1.docker.io" : "https://" + host;

    private static string HostsToml(string server, IReadOnlyList<string> mirrors, IReadOnlyDictionary<string, RegistryHostConfig> configs)
    {
        var root = new TomlTable { ["server"] = Normalize(server) };
        AddHostSettings(root, server, configs);
        var hosts = new TomlTable();
        // Every file gets a [host] table: without one containerd 1.6 ignores the file. The server's own entry comes last.
        foreach (var endpoint in mirrors.Append(server))
        {
            var table = new TomlTable();
            AddHostSettings(table, endpoint, configs);
            hosts[Normalize(endpoint)] = table;
        }
        root["host"] = hosts;
        return "# Written by Bulwark from registries.yaml (private-registry). Do not edit: it is rewritten at every start.\n" + TomlText.Serialize(root);
    }

    private static void AddHostSettings(TomlTable table, string endpoint, IReadOnlyDictionary<string, RegistryHostConfig> configs)
    {
        table["capabilities"] = new TomlArray { "pull", "resolve" };
        var uri = new Uri(Normalize(endpoint));
        if (uri.AbsolutePath.TrimEnd('/').EndsWith("/v2", StringComparison.Ordinal))
        {
            table["override_path"] = true;
        }
        var tls = (configs.GetValueOrDefault(uri.Authority) ?? configs.GetValueOrDefault(uri.Host) ?? configs.GetValueOrDefault("*"))?.Tls;
        if (tls is null)
        {
            return;
        }
        if (tls.CaFile is not null)
        {
            table["ca"] = Path.GetFullPath(tls.CaFile);
        }
        if (tls.CertFile is not null && tls.KeyFile is not null)
        {
            table["client"] = new TomlArray { new TomlArray { Path.GetFullPath(tls.CertFile), Path.GetFullPath(tls.KeyFile) } };
        }
        if (tls.InsecureSkipVerify)
        {
            table["skip_verify"] = true;
        }
    }

    private static string Normalize(string endpoint) => endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "https://" + endpoint;
}
