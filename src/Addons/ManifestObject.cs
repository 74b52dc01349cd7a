using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Addons;

/// <summary>One object of a manifest file, checked against the resource table: where it came from, where it goes, its JSON body.</summary>
public sealed record ManifestObject(string File, int Line, ApiResource Resource, string? Namespace, string Name, JsonObject Body)
{
    public const string DefaultNamespace = "default";

    public AppliedObject Ref => new(Resource.ApiVersion, Resource.Kind, Namespace, Name);

    /// <summary>Every object of a file; any problem (unknown kind, missing name) is an error with file:line.</summary>
    public static IReadOnlyList<ManifestObject> Read(string file, ApiResourceTable resources)
    {
        var objects = new List<ManifestObject>();
        foreach (var (document, line) in ManifestFiles.Documents(file))
        {
            var apiVersion = ManifestFiles.Scalar(document, "apiVersion");
            var kind = ManifestFiles.Scalar(document, "kind");
            if (apiVersion is null || kind is null)
            {
                throw new AddonException($"{file}:{line}: a manifest needs apiVersion and kind");
            }
            var resource = resources.Find(apiVersion, kind)
                ?? throw new AddonException($"{file}:{line}: {apiVersion} {kind} is not a resource Bulwark applies ({ApiResourceTable.DataFile}); " +
                    "check apiVersion and kind, or deploy it with a HelmChart");
            var metadata = ManifestFiles.Child(document, "metadata") as YamlMappingNode;
            var name = metadata is null ? null : ManifestFiles.Scalar(metadata, "name");
            if (string.IsNullOrEmpty(name))
            {
                throw new AddonException($"{file}:{line}: {kind} without metadata.name");
            }
            var ns = resource.Namespaced ? (metadata is null ? null : ManifestFiles.Scalar(metadata, "namespace")) ?? DefaultNamespace : null;
            var body = (JsonObject)YamlJson.Convert(document)!;
            if (ns is not null)
            {
                // Server-side apply needs the namespace in the body to match the URL.
                ((JsonObject)body["metadata"]!)["namespace"] = ns;
            }
            objects.Add(new ManifestObject(file, line, resource, ns, name, body));
        }
        return objects;
    }
}
