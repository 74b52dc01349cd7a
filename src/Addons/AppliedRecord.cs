using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.FileSystem;

namespace Bulwark.Addons;

/// <summary>One object the applier sent: enough to delete it later.</summary>
public sealed record AppliedObject(string ApiVersion, string Kind, string? Namespace, string Name)
{
    public override string ToString() => $"{Kind} {(Namespace is null ? "" : Namespace + "/")}{Name}";
}

/// <summary>One manifest file as last applied: its content hash and the objects it held.</summary>
public sealed record AppliedFile(string File, string Sha256, IReadOnlyList<AppliedObject> Objects);

/// <summary>What the applier applied (server/manifests-applied.json): re-apply on change, delete what went away.</summary>
public sealed record AppliedRecord(IReadOnlyList<AppliedFile> Files)
{
    public static readonly AppliedRecord Empty = new([]);

    public AppliedFile? Find(string file) => Files.FirstOrDefault(f => f.File == file);

    public static AppliedRecord Load(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            return Empty;
        }
        try
        {
            return JsonSerializer.Deserialize(System.IO.File.ReadAllText(path), AddonJsonContext.Default.AppliedRecord) ?? Empty;
        }
        catch (JsonException e)
        {
            throw new AddonException($"{path}: unreadable record of applied manifests ({e.Message}); delete it and every manifest is applied again");
        }
    }

    public void Save(string path) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, AddonJsonContext.Default.AppliedRecord), AtomicFile.Private);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AppliedRecord))]
internal sealed partial class AddonJsonContext : JsonSerializerContext;
