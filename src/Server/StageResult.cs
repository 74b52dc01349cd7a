namespace Bulwark.Server;

/// <summary>What a stage did: one line for the operator, optional indented details, and what it left running.</summary>
public sealed record StageResult(string Summary)
{
    /// <summary>Extra lines printed indented under the summary (e.g. each preflight violation).</summary>
    public IReadOnlyList<string> Details { get; init; } = [];

    /// <summary>Stopped (disposed) when the node stops, after every stage that came later.</summary>
    public IAsyncDisposable? Running { get; init; }
}
