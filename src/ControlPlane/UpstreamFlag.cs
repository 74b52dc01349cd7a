namespace Bulwark.ControlPlane;

/// <summary>Whether the pinned upstream release parses a flag, parses it with a deprecation warning, or no longer has it.</summary>
public enum UpstreamFlagStatus
{
    Accepted,
    Deprecated,
    Removed,
}

/// <summary>
/// One flag of an upstream component at the pinned minor (policies/kubernetes/v1.32/): its value kind, and for a
/// deprecated or removed flag what replaces it (a config-file field, or another flag or setting) and when it went.
/// </summary>
public sealed record UpstreamFlag(string Name, string Kind, UpstreamFlagStatus Status, string? ConfigField = null, string? Use = null, string? RemovedIn = null)
{
    /// <summary>What to use instead, for messages: the config-file field, else the named replacement.</summary>
    public string Replacement(string configKind) => ConfigField is { } field ? $"the {configKind} field {field}" : Use ?? "nothing";
}
