using Bulwark.ControlPlane;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Kube;

/// <summary>A credential in a kubeconfig: a file path, or the file's content embedded (base64 in the "-data" field).</summary>
public sealed record Credential(string? Path, string? Base64Data)
{
    public static Credential File(string path) => new(path, null);

    /// <summary>Embeds the file when it exists (so the kubeconfig works when copied elsewhere); references it otherwise.</summary>
    public static Credential EmbedIfPresent(string path) =>
        System.IO.File.Exists(path) ? new(null, Convert.ToBase64String(System.IO.File.ReadAllBytes(path))) : File(path);

    /// <summary>The PEM text, from the embedded data or the file.</summary>
    public string ReadPem() => Base64Data is not null ? System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(Base64Data)) : System.IO.File.ReadAllText(Path!);

    internal (string, YamlNode?) ToEntry(string field) =>
        Base64Data is not null ? (field + "-data", YamlNodes.Str(Base64Data)) : (field, YamlNodes.Str(Path!));

    internal static Credential? Read(YamlMappingNode map, string field, YamlNodes.Reader r, string folder) =>
        r.OptionalString(map, field + "-data") is { } data ? new(null, data)
        : r.OptionalString(map, field) is { } path ? File(System.IO.Path.Combine(folder, path))
        : null;
}
