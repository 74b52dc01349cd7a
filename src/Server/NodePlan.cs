namespace Bulwark.Server;

/// <summary>
/// The stages one run executes, in order. <see cref="Serve"/>: after the last stage the node is ready and runs until
/// SIGINT/SIGTERM; otherwise (a cluster reset) the run ends when the stages are done.
/// </summary>
public sealed record NodePlan(IReadOnlyList<IStage> Stages, bool Serve);
