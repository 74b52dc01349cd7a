using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Addons;

/// <summary>The resources the applier may apply and helm-controller's spec fields (policies/addons/api-resources.yaml).</summary>
public sealed record ApiResourceTable(IReadOnlyList<ApiResource> Resources, IReadOnlyList<string> HelmChartFields, IReadOnlyList<string> HelmChartConfigFields)
{
    public const string DataFile = "policies/addons/api-resources.yaml";

    public static readonly Lazy<ApiResourceTable> BuiltIn = new(() => Load(EmbeddedData.BuiltIn));

    public ApiResource? Find(string apiVersion, string kind) => Resources.FirstOrDefault(r => r.ApiVersion == apiVersion && r.Kind == kind);

    public static ApiResourceTable Load(EmbeddedData data)
    {
        var root = YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile);
        var r = new YamlNodes.Reader(DataFile);
        var resources = r.OptionalSequence(root, "resources").Select(n =>
        {
            var m = r.AsMapping(n, "a resource");
            return new ApiResource(r.NonEmptyString(m, "apiVersion"), r.NonEmptyString(m, "kind"), r.NonEmptyString(m, "plural"), r.NonEmptyString(m, "namespaced") == "true");
        }).ToList();
        return new ApiResourceTable(resources, r.OptionalStringList(root, "helmchart-spec-fields") ?? [], r.OptionalStringList(root, "helmchartconfig-spec-fields") ?? []);
    }
}
