using Bulwark.FileSystem;
using Bulwark.Pipeline;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Airgap;

/// <summary>
/// The parts of RKE2's <c>registries.yaml</c> the air-gap path reads and writes: <c>mirrors.&lt;registry&gt;.endpoint</c>
/// and <c>configs.&lt;host&gt;.auth/tls</c>. Interim model until the runtime capability's registries.yaml model is on main;
/// it keeps every key it does not know when rewriting the file.
/// </summary>
public sealed class RegistriesFile
{
    private readonly YamlMappingNode _root;
    private readonly string _path;

    private RegistriesFile(YamlMappingNode root, string path)
    {
        _root = root;
        _path = path;
    }

    public static RegistriesFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new RegistriesFile(new YamlMappingNode(), path);
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException e)
        {
            throw new PipelineException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count == 0)
        {
            return new RegistriesFile(new YamlMappingNode(), path);
        }
        return stream.Documents[0].RootNode is YamlMappingNode root
            ? new RegistriesFile(root, path)
            : throw new PipelineException($"{path}:1: expected a mapping with 'mirrors' and 'configs'");
    }

    /// <summary>Where to pull an image of a registry from: its mirrors in order, then the registry itself.</summary>
    public IReadOnlyList<RegistryEndpoint> EndpointsFor(string registry)
    {
        var endpoints = new List<RegistryEndpoint>();
        var mirrors = Child(_root, "mirrors");
        var mirror = mirrors is null ? null : Child(mirrors, registry) ?? Child(mirrors, "*");
        if (mirror?.Children.TryGetValue(new YamlScalarNode("endpoint"), out var list) == true)
        {
            if (list is not YamlSequenceNode sequence)
            {
                throw new PipelineException($"{_path}:{list.Start.Line}: mirrors.{registry}.endpoint must be a list of URLs");
            }
            foreach (var item in sequence)
            {
                if (item is not YamlScalarNode { Value: { } url } || !Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url, UriKind.Absolute, out var uri))
                {
                    throw new PipelineException($"{_path}:{item.Start.Line}: '{item}' is not an endpoint URL (https://host:port)");
                }
                endpoints.Add(WithConfig(new RegistryEndpoint(uri)));
            }
        }
        endpoints.Add(WithConfig(RegistryEndpoint.For(registry)));
        return endpoints;
    }

    /// <summary>Adds credentials and TLS settings from configs.&lt;host&gt;.</summary>
    public RegistryEndpoint WithConfig(RegistryEndpoint endpoint)
    {
        var configs = Child(_root, "configs");
        if (configs is null || Child(configs, endpoint.Host) is not { } config)
        {
            return endpoint;
        }
        var auth = Child(config, "auth");
        var tls = Child(config, "tls");
        return endpoint with
        {
            Username = Scalar(auth, "username") ?? endpoint.Username,
            Password = Scalar(auth, "password") ?? endpoint.Password,
            CaFile = Scalar(tls, "ca_file") ?? endpoint.CaFile,
            InsecureSkipVerify = Scalar(tls, "insecure_skip_verify") == "true" || endpoint.InsecureSkipVerify,
        };
    }

    /// <summary>Points each source registry at the private one and records how to reach it; keeps everything else.</summary>
    public void AddMirrors(IEnumerable<string> sourceRegistries, RegistryEndpoint target)
    {
        var mirrors = Child(_root, "mirrors") ?? Add(_root, "mirrors");
        foreach (var registry in sourceRegistries.Append(target.Host).Distinct(StringComparer.Ordinal))
        {
            var mirror = Child(mirrors, registry) ?? Add(mirrors, registry);
            mirror.Children[new YamlScalarNode("endpoint")] = new YamlSequenceNode(new YamlScalarNode(target.ToString()));
        }
        var configs = Child(_root, "configs") ?? Add(_root, "configs");
        var config = Child(configs, target.Host) ?? Add(configs, target.Host);
        if (target.Username is not null)
        {
            var auth = Child(config, "auth") ?? Add(config, "auth");
            auth.Children[new YamlScalarNode("username")] = new YamlScalarNode(target.Username);
            auth.Children[new YamlScalarNode("password")] = new YamlScalarNode(target.Password ?? "") { Style = ScalarStyle.DoubleQuoted };
        }
        if (target.CaFile is not null)
        {
            var tls = Child(config, "tls") ?? Add(config, "tls");
            tls.Children[new YamlScalarNode("ca_file")] = new YamlScalarNode(Path.GetFullPath(target.CaFile));
        }
    }

    /// <summary>Writes the file atomically, 0600 (it may hold registry passwords).</summary>
    public void Save()
    {
        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(_root)).Save(writer, assignAnchors: false);
        var text = writer.ToString();
        text = text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
        var folder = Path.GetDirectoryName(Path.GetFullPath(_path))!;
        if (!Directory.Exists(folder))
        {
            AtomicFile.EnsureDirectory(folder, AtomicFile.PrivateDirectory);
        }
        AtomicFile.WriteAllText(_path, text, AtomicFile.Private);
    }

    private static YamlMappingNode? Child(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node as YamlMappingNode : null;

    private static string? Scalar(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode s ? s.Value : null;

    private static YamlMappingNode Add(YamlMappingNode map, string key)
    {
        var child = new YamlMappingNode();
        map.Children[new YamlScalarNode(key)] = child;
        return child;
    }
}
