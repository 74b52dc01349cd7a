namespace Bulwark.Runtime;

/// <summary>One step of <c>bulwark node check</c>: what it proved (or why not, and how to fix it), and how long it took.</summary>
public sealed record NodeCheckStep(string Name, bool Ok, TimeSpan Duration, string Detail, string? Fix = null);

/// <summary>The whole check: the steps in order; passed when every step did.</summary>
public sealed record NodeCheckReport(IReadOnlyList<NodeCheckStep> Steps, bool UsedCheckNetwork)
{
    public bool Passed => Steps.Count > 0 && Steps.All(s => s.Ok);
    public NodeCheckStep? FirstFailure => Steps.FirstOrDefault(s => !s.Ok);
}
