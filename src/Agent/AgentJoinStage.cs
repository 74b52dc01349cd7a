using Bulwark.Config;
using Bulwark.Diagnostics;
using Bulwark.Pki;
using Bulwark.Server;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Agent;

/// <summary>Joins this node as an agent: pins the cluster CA with the token, obtains node certificates, writes kubeconfigs.</summary>
public sealed class AgentJoinStage : IStage
{
    public string Name => "join";

    public async Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var server = node.Config.Get(ConfigKeys.Server);
        var token = TokenSource.Server(node.Config) ?? "";
        var identity = NodeIdentity.Resolve(node.Config);
        var options = new AgentJoinOptions(node.Layout.DataDir, new Uri(server), token, identity.Name, identity.Addresses) { WithNodeId = node.Config.Get(ConfigKeys.WithNodeId) };
        node.Progress($"joining {server} as node {identity.Name}");
        AgentJoinResult result;
        try
        {
            result = await new AgentJoin(NodeContext.Require(node.Crypto, "the crypto service"), node.Loggers.CreateLogger<AgentJoin>())
                .RunAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (SupervisorUnavailableException e)
        {
            throw new BulwarkException(ErrorKind.Unavailable, $"gave up after {options.ReadyTimeout.TotalMinutes:0} min: {e.Message}", e);
        }
        return new StageResult($"node {result.NodeName} joined {server}{(result.CaPinned ? " (cluster CA pinned by the token)" : " (CA NOT pinned: bare-secret token)")}; " +
            $"{result.FilesWritten.Count} files written under {node.Layout.AgentDir}");
    }
}
