using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// <c>bulwark scan manifests</c>: finds the pod templates in manifest files (multi-document YAML, List objects, every workload
/// kind of the standards data) and evaluates the Pod Security Standards on them. Documents of other kinds are listed as skipped.
/// </summary>
public sealed class ManifestScanner(PodSecurityStandards standards)
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>Scans a file, or every manifest file under a folder (recursively, in name order).</summary>
    public ManifestScan Scan(string target, PodSecurityLevel level)
    {
        IReadOnlyList<string> files = File.Exists(target) ? [target]
            : Directory.Exists(target) ? Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList()
            : throw new PipelineException($"{target}: no such file or folder; give a manifest file or a folder of them");
        var rules = standards.At(level);
        var evaluator = new PodSecurityEvaluator(standards);
        var workloads = new List<ScannedWorkload>();
        var skipped = new List<SkippedDocument>();
        foreach (var file in files)
        {
            foreach (var document in Documents(file))
            {
                Visit(file, document, rules, evaluator, workloads, skipped);
            }
        }
        return new ManifestScan(target, level, standards, files, workloads, skipped);
    }

    private void Visit(string file, YamlMappingNode document, IReadOnlyList<PodSecurityRule> rules, PodSecurityEvaluator evaluator,
        List<ScannedWorkload> workloads, List<SkippedDocument> skipped)
    {
        var kind = Scalar(document, "kind") ?? throw new PipelineException($"{file}:{document.Start.Line}: the document has no kind; every manifest needs apiVersion and kind");
        var line = (int)document.Start.Line;
        if (kind == "List" && Child(document, "items") is YamlSequenceNode items)
        {
            foreach (var item in items.OfType<YamlMappingNode>())
            {
                Visit(file, item, rules, evaluator, workloads, skipped);
            }
            return;
        }
        if (!standards.Workloads.TryGetValue(kind, out var templatePath))
        {
            skipped.Add(new SkippedDocument(file, line, kind));
            return;
        }
        var metadata = Child(document, "metadata") as YamlMappingNode;
        var name = metadata is null ? null : Scalar(metadata, "name");
        var ns = metadata is null ? null : Scalar(metadata, "namespace");
        YamlMappingNode? pod = templatePath.Length == 0 ? document
            : PodSecurityEvaluator.Resolve(document, templatePath, "").FirstOrDefault().Node as YamlMappingNode;
        if (pod is null)
        {
            throw new PipelineException($"{file}:{line}: {kind} {name} has no pod template at {templatePath}; fix the manifest (kubectl apply would refuse it too)");
        }
        var violations = evaluator.Evaluate(pod, templatePath.Length == 0 ? "" : templatePath + ".", rules);
        workloads.Add(new ScannedWorkload(file, line, kind, name ?? "(unnamed)", ns, rules, violations));
    }

    /// <summary>The mapping documents of a file; malformed YAML is an error with file:line.</summary>
    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(file)));
        }
        catch (YamlException e)
        {
            throw new PipelineException($"{file}:{e.Start.Line}: not valid YAML: {e.Message}");
        }
        var documents = new List<YamlMappingNode>();
        foreach (var root in stream.Documents.Select(d => d.RootNode))
        {
            switch (root)
            {
                case YamlMappingNode map:
                    documents.Add(map);
                    break;
                case YamlScalarNode { Value: null or "" }:
                    break;
                default:
                    throw new PipelineException($"{file}:{root.Start.Line}: a manifest document must be a mapping (an object with apiVersion and kind)");
            }
        }
        return documents;
    }

    private static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;
}
