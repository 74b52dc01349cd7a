using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Addons;

/// <summary>helm-controller's CRDs, account and Deployment (policies/addons/helm-controller.yaml), with its images from the list.</summary>
public static class HelmControllerManifest
{
    public const string DataFile = "policies/addons/helm-controller.yaml";
    public const string FileName = "bulwark-helm-controller.yaml";

    /// <summary>The controller and helm job images, with system-default-registry when set.</summary>
    public static IReadOnlyList<string> Images(EffectiveConfig config, EmbeddedData data)
    {
        var (root, r) = Load(data);
        var images = r.OptionalMapping(root, "images") ?? throw r.Error(root, "missing images");
        return [WithRegistry(r.NonEmptyString(images, "controller"), config), WithRegistry(r.NonEmptyString(images, "job"), config)];
    }

    public static string Render(EffectiveConfig config, EmbeddedData data)
    {
        var (root, r) = Load(data);
        var images = Images(config, data);
        var documents = r.OptionalSequence(root, "manifests").Select(n => r.AsMapping(n, "a manifest")).ToList();
        var deployment = documents.Single(d => ManifestFiles.Scalar(d, "kind") == "Deployment");
        var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"])["containers"]).Children[0];
        container.Children[new YamlScalarNode("image")] = YamlNodes.Str(images[0]);
        ((YamlSequenceNode)container["args"]).Add(YamlNodes.Str("--default-job-image=" + images[1]));
        return YamlNodes.Serialize([.. documents]);
    }

    public static string WithRegistry(string image, EffectiveConfig config) =>
        config.Get(ConfigKeys.SystemDefaultRegistry) is { Length: > 0 } registry ? $"{registry.TrimEnd('/')}/{image}" : image;

    private static (YamlMappingNode Root, YamlNodes.Reader Reader) Load(EmbeddedData data) =>
        (YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile), new YamlNodes.Reader(DataFile));
}
