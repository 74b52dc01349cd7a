using System.Text.Json.Serialization;

namespace Bulwark.Kms;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(KmsKeyringManifest))]
[JsonSerializable(typeof(KmsStatus))]
[JsonSerializable(typeof(KmsKeyringExport))]
internal sealed partial class KmsJsonContext : JsonSerializerContext;
