using Bulwark.Server;
using Bulwark.Server.Stages;

namespace Bulwark.Agent;

/// <summary>The stages of <c>bulwark agent</c>, in order (see <see cref="IStage"/> to add one).</summary>
public static class AgentPlan
{
    public static NodePlan Standard() => new(
    [
        new DataDirStage(),
        new CryptoStage(),
        new AgentJoinStage(),
        // The container runtime (containerd) stage goes here.
        new KubeletStage(),
    ], Serve: false);
}
