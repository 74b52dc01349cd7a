namespace Bulwark.Server;

/// <summary>
/// One step of <c>bulwark server</c> or <c>bulwark agent</c>, with one job (preflight, crypto, PKI, etcd, supervisor…).
/// To add a stage: write a sealed class implementing this interface in its own file (src/Server/Stages/ or src/Agent/),
/// and add one line to the list in <see cref="ServerPlan"/> (or Agent/AgentPlan). <see cref="StageLoop"/> runs the list:
/// <list type="bullet">
/// <item>RunAsync does the job and returns the one line to print as <c>[Name] summary</c>. Results later stages need
///   go on <see cref="NodeContext"/> (add a property there).</item>
/// <item>Anything left running (a child process, a listener, a lock) is returned as <see cref="StageResult.Running"/>:
///   the loop disposes it when the node stops, in reverse order of the stages.</item>
/// <item>On failure throw <see cref="Diagnostics.BulwarkException"/> with its kind and a message that says what, where and
///   how to fix it; the loop prints it under this stage's name and stops what already runs. Honour the token: it is
///   cancelled by SIGINT/SIGTERM.</item>
/// </list>
/// </summary>
public interface IStage
{
    /// <summary>The label printed in brackets, e.g. "etcd".</summary>
    string Name { get; }

    Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken);
}
