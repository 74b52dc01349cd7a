using System.Text.Json.Serialization;
using Bulwark.Hardening;

namespace Bulwark.Cli;

/// <summary>Source-generated JSON for what the CLI prints with --output json (trim-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PreflightReport))]
[JsonSerializable(typeof(BuildInfo))]
[JsonSerializable(typeof(ConfigEntryView[]))]
[JsonSerializable(typeof(HardeningChange[]))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>One line of <c>config print --output json</c>.</summary>
internal sealed record ConfigEntryView(string Key, string Value, string Source);
