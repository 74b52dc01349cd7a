namespace Bulwark.Cni;

public enum CniStepStatus
{
    Passed,
    Failed,
    /// <summary>Validated up to the boundary, but the plugin is not installed, so nothing ran. Never counted as passed.</summary>
    NotRun,
    /// <summary>A documented behaviour of the installed plugins, handled by verify and not the node's fault.</summary>
    Known,
    Warning,
}

/// <summary>One step of <c>bulwark cni verify</c>: which network, what was checked, how it went, and the fix on failure.</summary>
public sealed record CniVerifyStep(string Network, string Step, CniStepStatus Status, string Detail, string? Fix = null);

/// <summary>The whole verify run: the configuration read and every step in order.</summary>
public sealed record CniVerifyReport(string ConfDir, string? ActiveConfig, IReadOnlyList<string> BinDirs, IReadOnlyList<CniVerifyStep> Steps)
{
    public bool Passed => Steps.All(s => s.Status != CniStepStatus.Failed);
    public int Count(CniStepStatus status) => Steps.Count(s => s.Status == status);
}
