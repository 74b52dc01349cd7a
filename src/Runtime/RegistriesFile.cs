using Bulwark.ControlPlane;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Runtime;

/// <summary>Credentials for a registry host (RKE2 <c>configs.&lt;host&gt;.auth</c>). Never logged.</summary>
public sealed record RegistryAuth(string? Username, string? Password, string? Auth, string? IdentityToken)
{
    public override string ToString() => "RegistryAuth { (redacted) }";
}

/// <summary>TLS settings for a registry host (RKE2 <c>configs.&lt;host&gt;.tls</c>).</summary>
public sealed record RegistryTls(string? CaFile, string? CertFile, string? KeyFile, bool InsecureSkipVerify);

/// <summary>Auth and TLS for one registry host.</summary>
public sealed record RegistryHostConfig(RegistryAuth? Auth, RegistryTls? Tls);

/// <summary>A mirror: endpoints tried in order for images of one registry (or <c>*</c>), and RKE2's rewrites.</summary>
public sealed record RegistryMirror(IReadOnlyList<string> Endpoints, IReadOnlyDictionary<string, string> Rewrite, int Line);

/// <summary>
/// RKE2's <c>registries.yaml</c> (the file named by <c>private-registry</c>): mirrors and per-host configs. Parsed from
/// YAML nodes, so every problem names file:line; <see cref="Write"/> writes it back (0600: it holds credentials).
/// The one reader of the file: the node runtime maps it to containerd, <c>bulwark airgap</c> pulls through it and adds mirrors.
/// </summary>
public sealed record RegistriesFile(IReadOnlyDictionary<string, RegistryMirror> Mirrors, IReadOnlyDictionary<string, RegistryHostConfig> Configs)
{
    public static readonly RegistriesFile Empty = new(new Dictionary<string, RegistryMirror>(), new Dictionary<string, RegistryHostConfig>());

    /// <summary>Reads the file; a missing file is an empty configuration (RKE2 treats it the same way).</summary>
    public static RegistriesFile Load(string path) =>
        File.Exists(path) ? Parse(File.ReadAllText(path), path) : Empty;

    public static RegistriesFile Parse(string yaml, string path)
    {
        var problems = new List<string>();
        void Problem(YamlNode at, string message) => problems.Add($"{path}:{at.Start.Line}: {message}");
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new BulwarkException(ErrorKind.Usage, $"{path}:{e.Start.Line}: not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count == 0)
        {
            return Empty;
        }
        if (stream.Documents.Count > 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new BulwarkException(ErrorKind.Usage, $"{path}:1: expected one YAML mapping with \"mirrors\" and \"configs\"");
        }
        var mirrors = new Dictionary<string, RegistryMirror>(StringComparer.Ordinal);
        var configs = new Dictionary<string, RegistryHostConfig>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in root.Children)
        {
            switch (Scalar(keyNode))
            {
                case "mirrors":
                    foreach (var (host, mirror) in Entries(value, "mirrors", Problem))
                    {
                        if (ReadMirror(host, mirror, Problem) is { } m)
                        {
                            mirrors[Scalar(host)!] = m;
                        }
                    }
                    break;
                case "configs":
                    foreach (var (host, config) in Entries(value, "configs", Problem))
                    {
                        if (ReadHostConfig(host, config, Problem) is { } c)
                        {
                            configs[Scalar(host)!] = c;
                        }
                    }
                    break;
                default:
                    Problem(keyNode, $"unknown key \"{Scalar(keyNode)}\"; registries.yaml has \"mirrors\" and \"configs\"");
                    break;
            }
        }
        return problems.Count > 0
            ? throw new BulwarkException(ErrorKind.Usage,
                $"{path}: {problems.Count} problem(s); fix them and start again (nothing was written):\n  " + string.Join("\n  ", problems))
            : new RegistriesFile(mirrors, configs);
    }

    /// <summary>
    /// This file with each registry's mirror set to one endpoint (as <c>bulwark airgap import</c> points the cluster at
    /// its private registry), and that endpoint host's auth and TLS replaced where given; everything else is kept.
    /// </summary>
    public RegistriesFile WithMirror(IEnumerable<string> registries, string endpoint, string endpointHost, RegistryHostConfig config)
    {
        var mirrors = new Dictionary<string, RegistryMirror>(Mirrors, StringComparer.Ordinal);
        foreach (var registry in registries)
        {
            mirrors[registry] = new RegistryMirror([endpoint], Mirrors.GetValueOrDefault(registry)?.Rewrite ?? new Dictionary<string, string>(), 0);
        }
        var configs = new Dictionary<string, RegistryHostConfig>(Configs, StringComparer.Ordinal);
        var old = Configs.GetValueOrDefault(endpointHost);
        configs[endpointHost] = new RegistryHostConfig(config.Auth ?? old?.Auth, config.Tls ?? old?.Tls);
        return new RegistriesFile(mirrors, configs);
    }

    /// <summary>Writes the file atomically with mode 0600 (credentials).</summary>
    public void Write(string path)
    {
        var root = new YamlMappingNode();
        if (Mirrors.Count > 0)
        {
            var mirrors = new YamlMappingNode();
            foreach (var (host, mirror) in Mirrors)
            {
                var entry = YamlNodes.Map(("endpoint", YamlNodes.Strings(mirror.Endpoints)));
                if (mirror.Rewrite.Count > 0)
                {
                    entry.Add("rewrite", YamlNodes.Map(mirror.Rewrite.Select(r => (r.Key, (YamlNode?)YamlNodes.Str(r.Value))).ToArray()));
                }
                mirrors.Add(YamlNodes.Str(host), entry);
            }
            root.Add("mirrors", mirrors);
        }
        if (Configs.Count > 0)
        {
            var configs = new YamlMappingNode();
            foreach (var (host, config) in Configs)
            {
                var entry = new YamlMappingNode();
                if (config.Auth is { } auth)
                {
                    entry.Add("auth", YamlNodes.Map(("username", Optional(auth.Username)), ("password", Optional(auth.Password)),
                        ("auth", Optional(auth.Auth)), ("identity_token", Optional(auth.IdentityToken))));
                }
                if (config.Tls is { } tls)
                {
                    entry.Add("tls", YamlNodes.Map(("ca_file", Optional(tls.CaFile)), ("cert_file", Optional(tls.CertFile)),
                        ("key_file", Optional(tls.KeyFile)), ("insecure_skip_verify", tls.InsecureSkipVerify ? YamlNodes.Bool(true) : null)));
                }
                configs.Add(YamlNodes.Str(host), entry);
            }
            root.Add("configs", configs);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!, AtomicFile.PrivateDirectory);
        AtomicFile.WriteAllText(path, YamlNodes.Serialize(root), AtomicFile.Private);
    }

    private static YamlNode? Optional(string? value) => value is null ? null : YamlNodes.Str(value);

    private static string? Scalar(YamlNode node) => (node as YamlScalarNode)?.Value;

    private static IEnumerable<(YamlNode Key, YamlNode Value)> Entries(YamlNode node, string what, Action<YamlNode, string> problem)
    {
        if (node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }
        if (node is not YamlMappingNode map)
        {
            problem(node, $"\"{what}\" must be a mapping of registry host names");
            return [];
        }
        var entries = new List<(YamlNode, YamlNode)>();
        foreach (var (key, value) in map.Children)
        {
            if (Scalar(key) is not { Length: > 0 } host || !IsRegistryHost(host))
            {
                problem(key, $"{what}: \"{Scalar(key)}\" is not a registry host (host[:port], or \"*\" under mirrors)");
                continue;
            }
            entries.Add((key, value));
        }
        return entries;
    }

    private static bool IsRegistryHost(string host) =>
        host == "*" || (Uri.CheckHostName(host.Split(':')[0]) != UriHostNameType.Unknown && !host.Contains('/') &&
            (host.Split(':') is [_] || (host.Split(':') is [_, var port] && int.TryParse(port, out var p) && p is > 0 and < 65536)));

    private static RegistryMirror? ReadMirror(YamlNode hostNode, YamlNode node, Action<YamlNode, string> problem)
    {
        var host = Scalar(hostNode)!;
        if (node is not YamlMappingNode map)
        {
            problem(node, $"mirrors.{host} must be a mapping with \"endpoint\" (a list of URLs)");
            return null;
        }
        var endpoints = new List<string>();
        var rewrite = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            switch (Scalar(keyNode))
            {
                case "endpoint":
                    if (value is not YamlSequenceNode list)
                    {
                        problem(value, $"mirrors.{host}.endpoint must be a list of URLs, e.g. [\"https://mirror.example:5000\"]");
                        break;
                    }
                    foreach (var item in list.Children)
                    {
                        var text = Scalar(item);
                        if (text is null || !Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "https://" + text, UriKind.Absolute, out var uri) ||
                            uri.Scheme is not ("http" or "https") || uri.Host.Length == 0 || uri.Query.Length > 0)
                        {
                            problem(item, $"mirrors.{host}.endpoint: \"{text}\" is not a registry URL (http(s)://host[:port][/path])");
                            continue;
                        }
                        endpoints.Add(text);
                    }
                    break;
                case "rewrite":
                    if (value is not YamlMappingNode rules)
                    {
                        problem(value, $"mirrors.{host}.rewrite must be a mapping of regular expression to replacement");
                        break;
                    }
                    foreach (var (pattern, replacement) in rules.Children)
                    {
                        rewrite[Scalar(pattern) ?? ""] = Scalar(replacement) ?? "";
                    }
                    break;
                default:
                    problem(keyNode, $"mirrors.{host}: unknown key \"{Scalar(keyNode)}\"; a mirror has \"endpoint\" and \"rewrite\"");
                    break;
            }
        }
        return new RegistryMirror(endpoints, rewrite, (int)hostNode.Start.Line);
    }

    private static RegistryHostConfig? ReadHostConfig(YamlNode hostNode, YamlNode node, Action<YamlNode, string> problem)
    {
        var host = Scalar(hostNode)!;
        if (node is not YamlMappingNode map)
        {
            problem(node, $"configs.{host} must be a mapping with \"auth\" and/or \"tls\"");
            return null;
        }
        RegistryAuth? auth = null;
        RegistryTls? tls = null;
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Scalar(keyNode);
            var fields = Fields(value, $"configs.{host}.{key}", key switch
            {
                "auth" => ["username", "password", "auth", "identity_token"],
                "tls" => ["ca_file", "cert_file", "key_file", "insecure_skip_verify"],
                _ => [],
            }, problem);
            switch (key)
            {
                case "auth":
                    auth = new RegistryAuth(fields.GetValueOrDefault("username"), fields.GetValueOrDefault("password"),
                        fields.GetValueOrDefault("auth"), fields.GetValueOrDefault("identity_token"));
                    if (auth.Username is not null != auth.Password is not null)
                    {
                        problem(value, $"configs.{host}.auth: give both username and password (or auth, or identity_token)");
                    }
                    break;
                case "tls":
                    var insecure = fields.GetValueOrDefault("insecure_skip_verify") is { } raw
                        ? raw.ToLowerInvariant() switch { "true" or "yes" => true, "false" or "no" => false, _ => Invalid(value, raw) }
                        : false;
                    tls = new RegistryTls(fields.GetValueOrDefault("ca_file"), fields.GetValueOrDefault("cert_file"), fields.GetValueOrDefault("key_file"), insecure);
                    foreach (var (field, file) in new[] { ("ca_file", tls.CaFile), ("cert_file", tls.CertFile), ("key_file", tls.KeyFile) })
                    {
                        if (file is not null && !File.Exists(file))
                        {
                            problem(value, $"configs.{host}.tls.{field}: {file} does not exist");
                        }
                    }
                    if (tls.CertFile is not null != tls.KeyFile is not null)
                    {
                        problem(value, $"configs.{host}.tls: cert_file and key_file go together (a client certificate and its key)");
                    }
                    break;
                default:
                    problem(keyNode, $"configs.{host}: unknown key \"{key}\"; a config has \"auth\" and \"tls\"");
                    break;
            }
        }
        return new RegistryHostConfig(auth, tls);

        bool Invalid(YamlNode at, string raw)
        {
            problem(at, $"configs.{host}.tls.insecure_skip_verify: expected true or false, got \"{raw}\"");
            return false;
        }
    }

    private static Dictionary<string, string> Fields(YamlNode node, string what, string[] allowed, Action<YamlNode, string> problem)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (allowed.Length == 0)
        {
            return fields;
        }
        if (node is not YamlMappingNode map)
        {
            problem(node, $"{what} must be a mapping with {string.Join(", ", allowed)}");
            return fields;
        }
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Scalar(keyNode) ?? "";
            if (!allowed.Contains(key))
            {
                problem(keyNode, $"{what}: unknown key \"{key}\"; expected one of {string.Join(", ", allowed)}");
            }
            else if (Scalar(value) is not { } text)
            {
                problem(value, $"{what}.{key} must be a string");
            }
            else
            {
                fields[key] = text;
            }
        }
        return fields;
    }
}
