using System.Text.Json.Serialization;

namespace Bulwark.Operations;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RuntimeBundleManifest))]
[JsonSerializable(typeof(RuntimeBundleStatus))]
internal sealed partial class RuntimeBundleJsonContext : JsonSerializerContext;
