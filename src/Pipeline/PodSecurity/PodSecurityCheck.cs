namespace Bulwark.Pipeline.PodSecurity;

/// <summary>
/// One field a rule looks at (a path relative to the pod, e.g. spec.containers[*].securityContext.privileged) and what it may hold.
/// An absent field passes unless <see cref="Required"/>; see policies/pod-security/standards.yaml for the meaning of each test.
/// </summary>
public sealed record PodSecurityCheck(string Path)
{
    public IReadOnlyList<string>? Allowed { get; init; }

    public IReadOnlyList<string>? Forbidden { get; init; }

    public string? MustContain { get; init; }

    public IReadOnlyList<string>? AllowedKeys { get; init; }

    /// <summary>The pod-level field a container inherits when its own is absent.</summary>
    public string? Fallback { get; init; }

    public bool Required { get; init; }

    /// <summary>What a passing value looks like, for reports.</summary>
    public string Expected =>
        MustContain is { } item ? $"a list containing {item}"
        : AllowedKeys is { } keys ? $"only {string.Join(", ", keys)}"
        : Forbidden is { } forbidden ? $"not {string.Join(" or ", forbidden)}"
        : Allowed is { Count: 0 } ? "unset"
        : Allowed is { } allowed ? (Required ? "" : "unset or ") + string.Join(" or ", allowed.Select(v => v.Length == 0 ? "\"\"" : v))
        : "unset";
}
