using Bulwark.Etcd;
using Bulwark.Pki;

namespace Bulwark.Server.Stages;

/// <summary>The first server's PKI: CAs, leaves and the token under server/tls, created, renewed or reused.</summary>
public sealed class PkiStage : IStage
{
    public string Name => "pki";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var options = ServerPkiOptions.From(node.Config) with { TokenCheckedByCluster = new EtcdPaths(node.Config.DataDir).HasMemberData };
        var result = new ServerPki(NodeContext.Require(node.Crypto, "the crypto service")).Ensure(options);
        var kept = result.Changes.Count - result.Created.Count() - result.Renewed.Count();
        return Task.FromResult(new StageResult($"{result.Created.Count()} created, {result.Renewed.Count()} renewed, {kept} reused in {result.Paths.TlsDirectory}"));
    }
}
