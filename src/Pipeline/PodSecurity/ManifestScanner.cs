using Bulwark.Addons;
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
        var kind = ManifestFiles.Scalar(document, "kind") ?? throw new PipelineException($"{file}:{document.Start.Line}: the document has no kind; every manifest needs apiVersion and kind");
        var line = (int)document.Start.Line;
        if (kind == "List" && ManifestFiles.Child(document, "items") is YamlSequenceNode items)
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
        var metadata = ManifestFiles.Child(document, "metadata") as YamlMappingNode;
        var name = metadata is null ? null : ManifestFiles.Scalar(metadata, "name");
        var ns = metadata is null ? null : ManifestFiles.Scalar(metadata, "namespace");
        YamlMappingNode? pod = templatePath.Length == 0 ? document
            : PodSecurityEvaluator.Resolve(document, templatePath, "").FirstOrDefault().Node as YamlMappingNode;
        if (pod is null)
        {
            throw new PipelineException($"{file}:{line}: {kind} {name} has no pod template at {templatePath}; fix the manifest (kubectl apply would refuse it too)");
        }
        var violations = evaluator.Evaluate(pod, templatePath.Length == 0 ? "" : templatePath + ".", rules);
        workloads.Add(new ScannedWorkload(file, line, kind, name ?? "(unnamed)", ns, rules, violations));
    }

    /// <summary>The mapping documents of a file, read as the add-on applier reads server/manifests; malformed YAML is an error with file:line.</summary>
    private static IEnumerable<YamlMappingNode> Documents(string file)
    {
        try
        {
            return ManifestFiles.Documents(file).Select(d => d.Document);
        }
        catch (AddonException e)
        {
            throw new PipelineException(e.Message);
        }
    }
}
