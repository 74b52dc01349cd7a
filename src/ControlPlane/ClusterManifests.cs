using Bulwark.Config;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// The CIS cluster manifests from policies/cluster-defaults.yaml: same-namespace ingress NetworkPolicies, policies for
/// the enabled packaged components, and default ServiceAccounts that do not mount tokens.
/// </summary>
public static class ClusterManifests
{
    public const string DataFile = "policies/cluster-defaults.yaml";

    public static string NetworkPolicies(EffectiveConfig config, EmbeddedData data)
    {
        var (root, reader) = Load(data);
        var documents = new List<YamlNode>();
        foreach (var ns in SameNamespaceIngressNamespaces(data))
        {
            documents.Add(YamlNodes.Map(
                ("apiVersion", YamlNodes.Str("networking.k8s.io/v1")),
                ("kind", YamlNodes.Str("NetworkPolicy")),
                ("metadata", YamlNodes.Map(("name", YamlNodes.Str("default-network-policy")), ("namespace", YamlNodes.Str(ns)))),
                ("spec", YamlNodes.Map(
                    ("podSelector", new YamlMappingNode()),
                    ("policyTypes", YamlNodes.Strings(["Ingress"])),
                    ("ingress", YamlNodes.Seq(YamlNodes.Map(("from", YamlNodes.Seq(YamlNodes.Map(("podSelector", new YamlMappingNode())))))))))));
        }
        var disabled = config.Get(ConfigKeys.Disable).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in reader.OptionalSequence(root, "component-policies"))
        {
            var map = reader.AsMapping(entry, "a component policy");
            if (!disabled.Contains(reader.NonEmptyString(map, "component")))
            {
                documents.Add(reader.OptionalMapping(map, "policy") ?? throw reader.Error(map, "missing policy"));
            }
        }
        return YamlNodes.Serialize([.. documents]);
    }

    /// <summary>The namespaces that get the same-namespace ingress policy (and, with Canal, the host-network one).</summary>
    public static IReadOnlyList<string> SameNamespaceIngressNamespaces(EmbeddedData data)
    {
        var (root, reader) = Load(data);
        var section = reader.OptionalMapping(root, "same-namespace-ingress") ?? throw reader.Error(root, "missing same-namespace-ingress");
        return reader.OptionalStringList(section, "namespaces") ?? [];
    }

    public static string ServiceAccounts(EmbeddedData data)
    {
        var (root, reader) = Load(data);
        var section = reader.OptionalMapping(root, "default-service-accounts") ?? throw reader.Error(root, "missing default-service-accounts");
        var documents = (reader.OptionalStringList(section, "namespaces") ?? []).Select(ns => (YamlNode)YamlNodes.Map(
            ("apiVersion", YamlNodes.Str("v1")),
            ("kind", YamlNodes.Str("ServiceAccount")),
            ("metadata", YamlNodes.Map(("name", YamlNodes.Str("default")), ("namespace", YamlNodes.Str(ns)))),
            ("automountServiceAccountToken", YamlNodes.Bool(false)))).ToArray();
        return YamlNodes.Serialize(documents);
    }

    private static (YamlMappingNode Root, YamlNodes.Reader Reader) Load(EmbeddedData data) =>
        (YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile), new YamlNodes.Reader(DataFile));
}
