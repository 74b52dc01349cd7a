using Bulwark.Etcd;

namespace Bulwark.Server.Stages;

/// <summary>The last stage: says the server is ready and where an operator finds the endpoint, certificates and token.</summary>
public sealed class ReadyStage : IStage
{
    public string Name => "ready";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var etcd = NodeContext.Require(node.EtcdNode, "etcd");
        var token = File.Exists(node.Layout.TokenFile) ? node.Layout.TokenFile : $"{node.Layout.TokenFile} (not present; written by the PKI stage)";
        var endpoints = string.Join(", ", etcd.ClientUrls.Select(ClusterEndpoints.Text));
        return Task.FromResult(new StageResult($"data dir {node.Layout.DataDir}; etcd {(etcd.RunsMember ? "endpoint" : "members (control-plane-only, no local etcd)")} {endpoints} " +
            $"(client certs in {etcd.Paths.TlsDir}); token file {token}"));
    }
}
