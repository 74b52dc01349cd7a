using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Catalog;

/// <summary>
/// Reads controls files in kube-bench's YAML format (and Bulwark's extensions) through YamlDotNet's
/// representation model, so errors carry file:line and the code stays trim-safe.
/// </summary>
public static class CatalogLoader
{
    public const string CisRoot = "policies/cis/";
    public const string StigRoot = "stig/";

    /// <summary>A built-in CIS catalog (e.g. cis-1.12): every controls file of policies/cis/NAME/ and its config.yaml.</summary>
    public static Catalog LoadCis(EmbeddedData data, string name)
    {
        var folder = $"{CisRoot}{name}/";
        var files = EmbeddedData.List(folder).Where(p => p.EndsWith(".yaml", StringComparison.Ordinal)).ToList();
        if (files.Count == 0)
        {
            throw new CatalogException($"no built-in CIS catalog {name} (expected {folder}).");
        }
        var settings = CatalogSettings.Empty;
        var controls = new List<Controls>();
        foreach (var file in files)
        {
            var text = data.ReadText(file);
            if (Path.GetFileName(file) == "config.yaml")
            {
                settings = settings.Merge(ParseSettings(text, file));
            }
            else
            {
                controls.Add(ParseControls(text, file, name));
            }
        }
        return new Catalog(name, settings, controls.OrderBy(c => c.Id, SectionIdComparer.Instance).ToList());
    }

    /// <summary>
    /// The built-in STIG catalogs (stig/*.yaml), each one controls file whose id names the benchmark (stig, rke2-stig)
    /// and whose benchmark: key is the id DISA gives the STIG's XCCDF Benchmark (Kubernetes_STIG, RGS_RKE2_STIG).
    /// </summary>
    public static IReadOnlyList<Catalog> LoadStigs(EmbeddedData data, CatalogSettings settings) =>
        EmbeddedData.List(StigRoot).Where(p => p.EndsWith(".yaml", StringComparison.Ordinal)).Select(file =>
        {
            var controls = ParseControls(data.ReadText(file), file, "");
            return new Catalog(controls.Id, settings, [controls with { Benchmark = controls.Id }]) { StigBenchmarkId = controls.XccdfBenchmark };
        }).ToList();

    /// <summary>
    /// A catalog from a folder on disk: a benchmark folder (e.g. kube-bench's cfg/rke2-cis-1.23: its *.yaml controls
    /// files and optional config.yaml), or a kube-bench config dir (cfg/: a config.yaml whose version_mapping names
    /// the benchmark folder for a Kubernetes version), from which the folder for the Kubernetes version Bulwark runs is taken.
    /// </summary>
    public static Catalog LoadDirectory(string directory, CatalogSettings defaults)
    {
        if (!Directory.Exists(directory))
        {
            throw new CatalogException($"--catalog {directory}: no such folder. Point it at a folder of kube-bench controls files (master.yaml, node.yaml, …).");
        }
        var controlsFiles = Directory.EnumerateFiles(directory, "*.yaml").Where(f => Path.GetFileName(f) != "config.yaml").ToList();
        var configFile = Path.Combine(directory, "config.yaml");
        if (controlsFiles.Count == 0 && File.Exists(configFile))
        {
            var text = File.ReadAllText(configFile);
            if (BenchmarkForKubernetes(text, configFile) is { } benchmark)
            {
                var folder = Path.Combine(directory, benchmark);
                if (!Directory.Exists(folder))
                {
                    throw new CatalogException($"{configFile}: version_mapping maps Kubernetes {KubernetesContract.PinnedMinor} to {benchmark}, but there is no folder {folder}. "
                        + $"Folders here: {string.Join(", ", Directory.EnumerateDirectories(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal))}; pass one as --catalog.");
                }
                return LoadBenchmarkFolder(folder, defaults.Merge(ParseSettings(text, configFile)));
            }
        }
        return LoadBenchmarkFolder(directory, defaults);
    }

    private static Catalog LoadBenchmarkFolder(string directory, CatalogSettings defaults)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var settings = defaults;
        var controls = new List<Controls>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            if (Path.GetFileName(file) == "config.yaml")
            {
                settings = settings.Merge(ParseSettings(text, file));
            }
            else
            {
                controls.Add(ParseControls(text, file, name));
            }
        }
        if (controls.Count == 0)
        {
            throw new CatalogException($"--catalog {directory}: no controls files (*.yaml other than config.yaml) in this folder.");
        }
        return new Catalog(name, settings, controls.OrderBy(c => c.Id, SectionIdComparer.Instance).ToList());
    }

    /// <summary>kube-bench's version_mapping entry for the Kubernetes minor Bulwark runs; null when the file has no version_mapping.</summary>
    private static string? BenchmarkForKubernetes(string text, string file)
    {
        if (LoadYaml(text, file) is not { } root || Map(root, "version_mapping", file) is not { } mapping)
        {
            return null;
        }
        var minor = KubernetesContract.PinnedMinor;
        return Str(mapping, minor) ?? throw new CatalogException(
            $"{file}:{mapping.Start.Line}: version_mapping has no entry for Kubernetes {minor}, the version Bulwark runs; add \"{minor}\": <benchmark folder> or pass a benchmark folder as --catalog.");
    }

    public static Controls ParseControls(string text, string file, string benchmark)
    {
        var root = LoadRoot(text, file);
        var groups = new List<CheckGroup>();
        foreach (var groupNode in Seq(root, "groups", file))
        {
            var group = AsMap(groupNode, file, "a group");
            var checks = new List<CheckDefinition>();
            // kube-bench: a group's type (manual, skip) applies to every check in it.
            var groupType = Str(group, "type");
            foreach (var checkNode in Seq(group, "checks", file))
            {
                checks.Add(ParseCheckOrInvalid(AsMap(checkNode, file, "a check"), file, groupType));
            }
            groups.Add(new CheckGroup(Required(group, "id", file), Str(group, "text") ?? "", checks));
        }
        var controls = new Controls(benchmark, Str(root, "id") ?? "", Str(root, "version") ?? "", Str(root, "text") ?? "", Str(root, "type") ?? "", file, groups)
        {
            XccdfBenchmark = Str(root, "benchmark"),
        };
        var duplicate = groups.SelectMany(g => g.Checks).GroupBy(c => c.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new CatalogException($"{file}: check id {duplicate.Key} is defined more than once ({string.Join(", ", duplicate.Select(c => c.Location))}); give each check its own id.");
        }
        return controls;
    }

    public static CatalogSettings ParseSettings(string text, string file)
    {
        if (LoadYaml(text, file) is not { } root)
        {
            return CatalogSettings.Empty;
        }
        var components = new Dictionary<string, ComponentSource>(StringComparer.Ordinal);
        if (Map(root, "components", file) is { } componentMap)
        {
            foreach (var (key, value) in componentMap.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                var m = AsMap(value, file, $"component {name}");
                var bins = Seq(m, "bins", file).Select(n => Scalar(n, file)).ToList();
                components[name] = new ComponentSource(name, bins.Count > 0 ? bins : [name], Str(m, "manifest"), Str(m, "argsfile"));
            }
        }
        var variables = new Dictionary<string, VariableSpec>(StringComparer.Ordinal);
        if (Map(root, "variables", file) is { } variableMap)
        {
            foreach (var (key, value) in variableMap.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                if (value is YamlScalarNode literal)
                {
                    variables[name] = new VariableSpec(name, null, null, null, null, null, literal.Value ?? "");
                    continue;
                }
                var m = AsMap(value, file, $"variable {name}");
                var arg = Map(m, "arg", file);
                var config = Map(m, "config", file);
                variables[name] = new VariableSpec(name,
                    arg is null ? null : Required(arg, "component", file),
                    arg is null ? null : Required(arg, "flag", file),
                    config is null ? null : Required(config, "file", file),
                    config is null ? null : Required(config, "path", file),
                    Str(m, "default"), null);
            }
        }
        var kubeBench = KubeBenchComponents.Parse(root, file);
        foreach (var (name, spec) in kubeBench.Variables)
        {
            variables[name] = spec;
        }
        return new CatalogSettings(components, variables) { KubeBenchBinaries = kubeBench.Binaries };
    }

    /// <summary>One check that cannot be understood does not refuse the catalog (kube-bench runs the rest): it becomes an ERROR result saying why.</summary>
    private static CheckDefinition ParseCheckOrInvalid(YamlMappingNode m, string file, string? groupType)
    {
        try
        {
            return ParseCheck(m, file, groupType);
        }
        catch (CatalogException e)
        {
            return new CheckDefinition
            {
                Id = Str(m, "id") ?? $"(no id, {file}:{m.Start.Line})",
                Text = Str(m, "text") ?? "",
                Scored = Str(m, "scored") == "true",
                Invalid = e.Message,
                Location = $"{file}:{m.Start.Line}",
            };
        }
    }

    private static CheckDefinition ParseCheck(YamlMappingNode m, string file, string? groupType)
    {
        var location = $"{file}:{m.Start.Line}";
        var id = Required(m, "id", file);
        var typeText = groupType is "manual" or "skip" ? groupType : Str(m, "type") ?? "";
        var type = typeText switch
        {
            "" => CheckType.Automated,
            "manual" => CheckType.Manual,
            "skip" => CheckType.Skip,
            _ => throw new CatalogException($"{location}: check {id} has type '{typeText}'; use manual, skip, or leave it out for an automated check."),
        };
        TestSpec? tests = null;
        if (Map(m, "tests", file) is { } t)
        {
            var opText = Str(t, "bin_op") ?? "and";
            var op = opText switch
            {
                "and" => BinaryOp.And,
                "or" => BinaryOp.Or,
                _ => throw new CatalogException($"{file}:{t.Start.Line}: check {id} has bin_op '{opText}'; use and or or."),
            };
            var items = Seq(t, "test_items", file).Select(n => ParseItem(AsMap(n, file, "a test item"), file, id)).ToList();
            tests = new TestSpec(op, items);
        }
        if (type == CheckType.Automated && tests is null && Seq(m, "uses", file).Count == 0)
        {
            throw new CatalogException($"{location}: check {id} has no tests; add a tests block, uses: [...], or type: manual.");
        }
        var refs = Map(m, "references", file);
        var stig = Str(m, "rule") is { } rule ? new StigIdentity(rule, Str(m, "stig_id") ?? "", List(m, "cci", file)) : null;
        var severity = Str(m, "severity") ?? "medium";
        if (severity is not ("high" or "medium" or "low"))
        {
            throw new CatalogException($"{location}: check {id} has severity '{severity}'; use high, medium or low (STIG CAT I, II, III).");
        }
        return new CheckDefinition
        {
            Id = id,
            Text = Required(m, "text", file),
            Type = type,
            Audit = Str(m, "audit"),
            AuditConfig = Str(m, "audit_config"),
            Evidence = Map(m, "evidence", file) is { } e ? ParseEvidence(e, file, id) : null,
            Cluster = Map(m, "cluster", file) is { } c ? ParseCluster(c, file, id) : null,
            Tests = tests,
            Remediation = (Str(m, "remediation") ?? "").Trim(),
            // kube-bench: a check without "scored" is unscored (a failure is a WARN).
            Scored = Bool(m, "scored", false, file),
            UseMultipleValues = Bool(m, "use_multiple_values", false, file),
            Level = int.TryParse(Str(m, "level"), out var level) ? level : 0,
            Severity = severity,
            Reason = Str(m, "reason")?.Trim(),
            References = refs is null ? CheckReferences.None : new CheckReferences(List(refs, "cis", file), List(refs, "stig", file), List(refs, "controls", file)),
            Uses = List(m, "uses", file),
            Stig = stig,
            Location = location,
        };
    }

    private static ClusterQuery ParseCluster(YamlMappingNode m, string file, string checkId)
    {
        foreach (var key in m.Children.Keys.OfType<YamlScalarNode>().Where(k => k.Value is not ("rule" or "except-namespaces")))
        {
            throw new CatalogException($"{file}:{key.Start.Line}: check {checkId} has unknown cluster key '{key.Value}'; known: rule, except-namespaces.");
        }
        var rule = Required(m, "rule", file);
        if (!Evidence.ClusterRules.Known.Contains(rule))
        {
            throw new CatalogException($"{file}:{m.Start.Line}: check {checkId} names cluster rule '{rule}'; known: {string.Join(", ", Evidence.ClusterRules.Known)}.");
        }
        return new ClusterQuery(rule, List(m, "except-namespaces", file));
    }

    private static TestItem ParseItem(YamlMappingNode m, string file, string checkId)
    {
        CompareSpec? compare = null;
        if (Map(m, "compare", file) is { } c)
        {
            var op = Required(c, "op", file);
            if (!Evaluation.CompareOps.Known.Contains(op))
            {
                throw new CatalogException($"{file}:{c.Start.Line}: check {checkId} uses compare op '{op}'; known ops: {string.Join(", ", Evaluation.CompareOps.Known)}.");
            }
            compare = new CompareSpec(op, Str(c, "value") ?? "");
        }
        var item = new TestItem(Str(m, "flag"), Str(m, "path"), Str(m, "env"), Bool(m, "set", true, file), compare);
        if (item.Flag is null && item.Path is null && item.Env is null)
        {
            throw new CatalogException($"{file}:{m.Start.Line}: a test item of check {checkId} names no flag, path or env; say what to look for.");
        }
        return item;
    }

    private static EvidenceSpec ParseEvidence(YamlMappingNode m, string file, string checkId)
    {
        var missingText = Str(m, "missing");
        MissingPolicy? missing = missingText switch
        {
            null => null,
            "fail" => MissingPolicy.Fail,
            "not_applicable" => MissingPolicy.NotApplicable,
            "pass" => MissingPolicy.Pass,
            _ => throw new CatalogException($"{file}:{m.Start.Line}: check {checkId} has evidence missing: '{missingText}'; use fail, not_applicable or pass."),
        };
        var known = new HashSet<string>(["args", "stat", "config", "file", "sysctl", "manifests", "missing"], StringComparer.Ordinal);
        foreach (var key in m.Children.Keys.OfType<YamlScalarNode>())
        {
            if (!known.Contains(key.Value!))
            {
                throw new CatalogException($"{file}:{key.Start.Line}: check {checkId} has unknown evidence kind '{key.Value}'; known: {string.Join(", ", known)}.");
            }
        }
        return new EvidenceSpec
        {
            Args = List(m, "args", file),
            Stat = List(m, "stat", file),
            Config = Str(m, "config"),
            File = List(m, "file", file),
            Sysctl = List(m, "sysctl", file),
            Manifests = Str(m, "manifests"),
            Missing = missing,
        };
    }

    /// <summary>
    /// Parses one YAML document as go-yaml would (<see cref="GoYamlText"/>); null for a file with no document
    /// (only comments, as kube-bench's published rke2 config.yaml files are).
    /// </summary>
    public static YamlMappingNode? LoadYaml(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(GoYamlText.Normalize(text)));
        }
        catch (YamlException e)
        {
            throw new CatalogException($"{file}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        return stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" } ? null
            : stream.Documents[0].RootNode as YamlMappingNode ?? throw new CatalogException($"{file}: expected a YAML mapping at the top.");
    }

    private static YamlMappingNode LoadRoot(string text, string file) =>
        LoadYaml(text, file) ?? throw new CatalogException($"{file}: no controls in this file; expected a YAML mapping at the top (id, version, groups …).");

    internal static YamlNode? Get(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    internal static string? Str(YamlMappingNode m, string key) => Get(m, key) is YamlScalarNode s ? s.Value : null;

    private static string Required(YamlMappingNode m, string key, string file) =>
        Str(m, key) is { Length: > 0 } v ? v : throw new CatalogException($"{file}:{m.Start.Line}: '{key}' is missing; every entry here needs one.");

    internal static bool Bool(YamlMappingNode m, string key, bool fallback, string file) => Str(m, key) switch
    {
        null => fallback,
        "true" => true,
        "false" => false,
        var other => throw new CatalogException($"{file}:{Get(m, key)!.Start.Line}: '{key}: {other}' must be true or false."),
    };

    internal static YamlMappingNode? Map(YamlMappingNode m, string key, string file) => Get(m, key) switch
    {
        null => null,
        YamlMappingNode map => map,
        YamlScalarNode { Value: null or "" } => null,
        var other => throw new CatalogException($"{file}:{other.Start.Line}: '{key}' must be a mapping."),
    };

    private static IReadOnlyList<YamlNode> Seq(YamlMappingNode m, string key, string file) => Get(m, key) switch
    {
        null => [],
        YamlSequenceNode seq => seq.Children.ToList(),
        YamlScalarNode { Value: null or "" } => [],
        var other => throw new CatalogException($"{file}:{other.Start.Line}: '{key}' must be a list."),
    };

    /// <summary>A list of strings; a single scalar counts as a one-item list.</summary>
    internal static IReadOnlyList<string> List(YamlMappingNode m, string key, string file) => Get(m, key) switch
    {
        null => [],
        YamlScalarNode s => string.IsNullOrEmpty(s.Value) ? [] : [s.Value],
        YamlSequenceNode seq => seq.Children.Select(n => Scalar(n, file)).ToList(),
        var other => throw new CatalogException($"{file}:{other.Start.Line}: '{key}' must be a list of strings."),
    };

    private static string Scalar(YamlNode n, string file) =>
        n is YamlScalarNode s ? s.Value ?? "" : throw new CatalogException($"{file}:{n.Start.Line}: expected a plain value here.");

    internal static YamlMappingNode AsMap(YamlNode n, string file, string what) =>
        n as YamlMappingNode ?? throw new CatalogException($"{file}:{n.Start.Line}: expected {what} (a mapping) here.");
}

/// <summary>A loaded benchmark: its controls files and the settings that resolve its variables.</summary>
public sealed record Catalog(string Name, CatalogSettings Settings, IReadOnlyList<Controls> Controls)
{
    /// <summary>For a STIG catalog: the id of DISA's XCCDF Benchmark it implements; null for other catalogs.</summary>
    public string? StigBenchmarkId { get; init; }

    public IEnumerable<CheckDefinition> AllChecks => Controls.SelectMany(c => c.Groups).SelectMany(g => g.Checks);
}

/// <summary>Orders section ids as people number them: 1 &lt; 2 &lt; 10, 1.2 &lt; 1.10; non-numeric parts by text.</summary>
public sealed class SectionIdComparer : IComparer<string>
{
    public static readonly SectionIdComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = (x ?? "").Split('.');
        var b = (y ?? "").Split('.');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var c = int.TryParse(a[i], out var na) && int.TryParse(b[i], out var nb) ? na.CompareTo(nb) : string.CompareOrdinal(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }
        return a.Length.CompareTo(b.Length);
    }
}
