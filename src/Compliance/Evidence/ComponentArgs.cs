using System.Text;
using Bulwark.Compliance.Catalog;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Evidence;

/// <summary>A component's argv (program first), its environment, and where both were read.</summary>
public sealed record ComponentArgs(string Component, IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment, string Source)
{
    /// <summary>The argv as one line, as `ps` shows it; this is the text flag tests search.</summary>
    public string CommandLine => string.Join(' ', Argv);

    /// <summary>The value of --name=value or "--name value"; "true" for a bare boolean flag; null when absent.</summary>
    public string? FlagValue(string flag)
    {
        for (var i = 0; i < Argv.Count; i++)
        {
            var arg = Argv[i];
            if (arg.StartsWith(flag + "=", StringComparison.Ordinal))
            {
                return arg[(flag.Length + 1)..];
            }
            if (arg == flag)
            {
                return i + 1 < Argv.Count && !Argv[i + 1].StartsWith('-') ? Argv[i + 1] : "true";
            }
        }
        return null;
    }
}

/// <summary>
/// Finds a component's arguments: from its running process (/proc/PID/cmdline under the host root) when it
/// runs, else from its static pod manifest (container 0's command + args) or its args file.
/// </summary>
public sealed class ComponentArgsReader(NodePaths node, IReadOnlyDictionary<string, ComponentSource> components)
{
    private readonly Dictionary<string, ComponentArgs?> _cache = new(StringComparer.Ordinal);
    private IReadOnlyList<(int Pid, string[] Argv)>? _processes;

    public bool IsKnown(string component) => components.ContainsKey(component);

    /// <summary>Null when the component neither runs nor has a manifest or args file on this node.</summary>
    public ComponentArgs? Read(string component)
    {
        if (_cache.TryGetValue(component, out var cached))
        {
            return cached;
        }
        if (!components.TryGetValue(component, out var source))
        {
            throw new CatalogException($"component '{component}' is not defined in the catalog's config.yaml (components:); define where its arguments are found.");
        }
        var result = FromProcess(source) ?? FromManifest(source) ?? FromArgsFile(source);
        _cache[component] = result;
        return result;
    }

    /// <summary>
    /// Whether this node runs <paramref name="binary"/>: a program name ("kube-apiserver") or, as kube-bench's bins
    /// allow, a program and its first arguments ("hyperkube apiserver").
    /// </summary>
    public bool Runs(string binary) => NodeProcesses().Any(p =>
    {
        var line = string.Join(' ', [Path.GetFileName(p.Argv[0]), .. p.Argv.Skip(1)]);
        return line == binary || line.StartsWith(binary + " ", StringComparison.Ordinal);
    });

    /// <summary>
    /// Only this node's own processes count: they name files under the node's data dir. Another etcd on the
    /// same machine (a test, a second node in a namespace) must not stand in as evidence for this one.
    /// </summary>
    private IEnumerable<(int Pid, string[] Argv)> NodeProcesses()
    {
        _processes ??= ScanProcesses();
        var dataDir = node.DataDir.TrimEnd('/') + "/";
        return _processes.Where(p => p.Argv.Skip(1).Any(a => a.Contains(dataDir, StringComparison.Ordinal)));
    }

    private ComponentArgs? FromProcess(ComponentSource source)
    {
        foreach (var (pid, argv) in NodeProcesses())
        {
            if (source.Binaries.Contains(Path.GetFileName(argv[0]), StringComparer.Ordinal))
            {
                var procPath = $"/proc/{pid}";
                return new ComponentArgs(source.Name, argv, ReadEnviron(node.Resolve(procPath + "/environ")), $"running process {pid} ({procPath}/cmdline)");
            }
        }
        return null;
    }

    private IReadOnlyList<(int, string[])> ScanProcesses()
    {
        var proc = node.Resolve("/proc");
        var list = new List<(int, string[])>();
        if (!Directory.Exists(proc))
        {
            return list;
        }
        foreach (var dir in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                var argv = Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                if (argv.Length > 0)
                {
                    list.Add((pid, argv));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked, or is not ours to read: not a component we can use.
            }
        }
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    private static Dictionary<string, string> ReadEnviron(string path)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in Encoding.UTF8.GetString(File.ReadAllBytes(path)).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    env[entry[..eq]] = entry[(eq + 1)..];
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No environment evidence; env tests then find nothing.
        }
        return env;
    }

    private ComponentArgs? FromManifest(ComponentSource source)
    {
        if (source.Manifest is null)
        {
            return null;
        }
        var hostPath = node.ExpandPlaceholders(source.Manifest);
        var path = node.Resolve(hostPath);
        if (!File.Exists(path))
        {
            return null;
        }
        var doc = StructuredDocument.Load(path, hostPath);
        var container = JsonPathQuery.Select(doc.Root, "{.spec.containers[0]}").FirstOrDefault() as YamlMappingNode
            ?? throw new InvalidDataException($"{hostPath}: a static pod manifest needs spec.containers[0]; this file has none.");
        var argv = new List<string>();
        argv.AddRange(Strings(container, "command"));
        argv.AddRange(Strings(container, "args"));
        if (argv.Count == 0)
        {
            argv.Add(source.Binaries[0]);
        }
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in JsonPathQuery.Select(container, "{.env[*]}").OfType<YamlMappingNode>())
        {
            if (CatalogLoader.Str(item, "name") is { } name)
            {
                env[name] = CatalogLoader.Str(item, "value") ?? "";
            }
        }
        return new ComponentArgs(source.Name, argv, env, $"static pod manifest {hostPath}");
    }

    private ComponentArgs? FromArgsFile(ComponentSource source)
    {
        if (source.ArgsFile is null)
        {
            return null;
        }
        var hostPath = node.ExpandPlaceholders(source.ArgsFile);
        var path = node.Resolve(hostPath);
        if (!File.Exists(path))
        {
            return null;
        }
        var argv = new List<string> { source.Binaries[0] };
        argv.AddRange(File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        return new ComponentArgs(source.Name, argv, new Dictionary<string, string>(), $"args file {hostPath}");
    }

    private static IEnumerable<string> Strings(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var n) && n is YamlSequenceNode seq
            ? seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "")
            : [];
}
