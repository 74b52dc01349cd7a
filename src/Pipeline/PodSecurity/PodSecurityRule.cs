namespace Bulwark.Pipeline.PodSecurity;

/// <summary>One Pod Security Standards control (host namespaces, privileged, capabilities…) and the fields it checks.</summary>
public sealed record PodSecurityRule(string Id, PodSecurityLevel Level, string Title, bool LinuxOnly, IReadOnlyList<PodSecurityCheck> Checks)
{
    /// <summary>A baseline rule this restricted rule tightens; evaluating restricted runs this one instead.</summary>
    public string? Replaces { get; init; }
}
