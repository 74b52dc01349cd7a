namespace Bulwark.Pki;

/// <summary>The identities a node's kubelet and kube-proxy carry: what the Node authorizer, NodeRestriction and the RBAC defaults expect.</summary>
public static class NodeCredentials
{
    public const string NodesGroup = "system:nodes";
    public const string KubeProxyUser = "system:kube-proxy";

    public static string NodeUser(string nodeName) => "system:node:" + nodeName;
}
