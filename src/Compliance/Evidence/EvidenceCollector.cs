using System.Text;
using Bulwark.Compliance.Catalog;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Evidence;

/// <summary>A piece of evidence text (what flag tests search) and where it was read.</summary>
public sealed record EvidenceSegment(string Source, string Text);

/// <summary>Why a check's evidence is absent, and what that means for the result.</summary>
public sealed record MissingEvidence(MissingPolicy Policy, string Reason);

/// <summary>Everything read for one check: text segments, a structured document for path tests, a process environment.</summary>
public sealed record CollectedEvidence(
    IReadOnlyList<EvidenceSegment> Segments,
    StructuredDocument? Config,
    IReadOnlyDictionary<string, string> Environment,
    string? EnvironmentSource,
    MissingEvidence? Missing);

/// <summary>Reads a check's evidence natively: component args, file modes and owners, files, kernel parameters, manifests.</summary>
public sealed class EvidenceCollector(NodePaths node, VariableResolver variables, ComponentArgsReader args, AccountNames accounts, DocumentCache documents)
{
    public CollectedEvidence Collect(EvidenceSpec spec)
    {
        var segments = new List<EvidenceSegment>();
        StructuredDocument? config = null;
        IReadOnlyDictionary<string, string> env = new Dictionary<string, string>();
        string? envSource = null;
        MissingEvidence? missing = null;
        void Absent(MissingPolicy kindDefault, string reason) => missing ??= new MissingEvidence(spec.Missing ?? kindDefault, reason);

        foreach (var component in spec.Args)
        {
            var read = args.Read(component);
            if (read is null)
            {
                Absent(MissingPolicy.NotApplicable, $"{component} does not run on this node and has no static pod manifest or args file");
            }
            else
            {
                segments.Add(new EvidenceSegment(read.Source, read.CommandLine));
                if (envSource is null)
                {
                    env = read.Environment;
                    envSource = read.Source;
                }
            }
        }
        // Several patterns (a folder and its files, several folders) are absent together only when none matches.
        var statted = 0;
        foreach (var pattern in spec.Stat)
        {
            var files = PathPattern.Expand(node, variables.Expand(pattern));
            foreach (var hostPath in files)
            {
                if (FileStatusReader.Read(node.Resolve(hostPath)) is { } status)
                {
                    statted++;
                    segments.Add(new EvidenceSegment(hostPath, $"permissions={status.Permissions} owner={accounts.User(status.Uid)}:{accounts.Group(status.Gid)}"));
                }
            }
        }
        if (spec.Stat.Count > 0 && statted == 0)
        {
            Absent(MissingPolicy.NotApplicable, $"no file at {string.Join(", ", spec.Stat.Select(variables.Expand))} on this node");
        }
        if (spec.Config is { } configPattern)
        {
            var hostPath = variables.Expand(configPattern);
            var path = node.Resolve(hostPath);
            if (File.Exists(path))
            {
                config = documents.Load(path, hostPath);
            }
            else if (!spec.ConfigIfPresent)
            {
                Absent(MissingPolicy.Fail, $"{hostPath} does not exist");
            }
        }
        foreach (var pattern in spec.File)
        {
            var hostPath = variables.Expand(pattern);
            var path = node.Resolve(hostPath);
            if (File.Exists(path))
            {
                segments.Add(new EvidenceSegment(hostPath, File.ReadAllText(path)));
            }
            else
            {
                Absent(MissingPolicy.Fail, $"{hostPath} does not exist");
            }
        }
        foreach (var name in spec.Sysctl)
        {
            var hostPath = "/proc/sys/" + name.Replace('.', '/');
            var path = node.Resolve(hostPath);
            if (File.Exists(path))
            {
                segments.Add(new EvidenceSegment(hostPath, $"{name}={File.ReadAllText(path).Trim()}"));
            }
            else
            {
                Absent(MissingPolicy.Fail, $"kernel parameter {name} is not present at {hostPath}");
            }
        }
        if (spec.Manifests is { } manifestPattern)
        {
            var files = PathPattern.Expand(node, variables.Expand(manifestPattern)).Where(f => File.Exists(node.Resolve(f))).ToList();
            if (files.Count == 0)
            {
                Absent(MissingPolicy.Fail, $"no manifest at {variables.Expand(manifestPattern)}");
            }
            foreach (var hostPath in files)
            {
                var doc = documents.Load(node.Resolve(hostPath), hostPath);
                segments.Add(new EvidenceSegment(hostPath, string.Join('\n', doc.AllDocuments.SelectMany(Describe))));
            }
        }
        return new CollectedEvidence(segments, config, env, envSource, missing);
    }

    /// <summary>One line per Kubernetes object: "kind=NetworkPolicy namespace=default name=deny-all policyTypes=Ingress,Egress podSelector={}".</summary>
    private static IEnumerable<string> Describe(YamlNode doc)
    {
        if (doc is YamlMappingNode { } m && CatalogLoader.Str(m, "kind") == "List")
        {
            return JsonPathQuery.Select(m, "{.items[*]}").SelectMany(Describe);
        }
        var line = new StringBuilder();
        line.Append("kind=").Append(JsonPathQuery.Render(JsonPathQuery.Select(doc, "{.kind}")));
        line.Append(" namespace=").Append(JsonPathQuery.Render(JsonPathQuery.Select(doc, "{.metadata.namespace}")));
        line.Append(" name=").Append(JsonPathQuery.Render(JsonPathQuery.Select(doc, "{.metadata.name}")));
        var types = JsonPathQuery.Select(doc, "{.spec.policyTypes[*]}");
        if (types.Count > 0)
        {
            line.Append(" policyTypes=").Append(string.Join(',', types.Select(JsonPathQuery.Render)));
        }
        var selector = JsonPathQuery.Select(doc, "{.spec.podSelector}");
        if (selector.Count > 0)
        {
            line.Append(" podSelector=").Append(JsonPathQuery.Render(selector));
        }
        return [line.ToString()];
    }
}
