using System.Text.Json.Serialization;
using Bulwark.Cni;

namespace Bulwark.Cli;

/// <summary>Source-generated JSON for <c>cni verify -o json</c>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(CniVerifyReport))]
internal sealed partial class CniJsonContext : JsonSerializerContext;
