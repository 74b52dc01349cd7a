using System.Text.Json.Serialization;
using System.Text.Json;
using Bulwark.FileSystem;

namespace Bulwark.Runtime;

/// <summary>What an archive was when it was imported: size, mtime, digest, and the image names it gave.</summary>
public sealed record ImportCacheEntry(long Size, long ModifiedTicks, string Digest, List<string> Images);

/// <summary>agent/images-imported.json: lets a restart skip archives that have not changed since their import.</summary>
internal static class ImportCache
{
    public static Dictionary<string, ImportCacheEntry> Load(string path)
    {
        try
        {
            return File.Exists(path)
                ? JsonSerializer.Deserialize(File.ReadAllText(path), ImportCacheJson.Default.DictionaryStringImportCacheEntry) ?? []
                : [];
        }
        catch (JsonException)
        {
            return []; // a damaged cache only costs a re-import
        }
    }

    public static void Save(string path, Dictionary<string, ImportCacheEntry> cache) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(cache, ImportCacheJson.Default.DictionaryStringImportCacheEntry), AtomicFile.Private);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Dictionary<string, ImportCacheEntry>))]
internal sealed partial class ImportCacheJson : JsonSerializerContext
{
}
