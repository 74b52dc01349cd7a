using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>The node certificates an agent may ask for, one endpoint each.</summary>
public enum NodeCertificateKind
{
    /// <summary>kubelet → kube-apiserver: CN=system:node:&lt;node&gt;, O=system:nodes, signed by the client CA.</summary>
    KubeletClient,

    /// <summary>kubelet's HTTPS endpoint: CN=system:node:&lt;node&gt;, O=system:nodes, SANs = node name and its addresses, signed by the server CA.</summary>
    KubeletServing,

    /// <summary>kube-proxy → kube-apiserver: CN=system:kube-proxy, signed by the client CA.</summary>
    KubeProxy,
}

/// <summary>
/// Decides what a node may ask for and signs its CSR with the crypto issue's <see cref="CsrSigner"/> (which checks the
/// CSR's signature, the approved key type, the exact subject and the allowed SANs). The node's private key never
/// leaves the node, and a node can only obtain certificates for the name it authenticated with.
/// </summary>
public sealed class NodeCertificateSigner(CsrSigner signer, IssuedCertificate clientCa, IssuedCertificate serverCa) : IDisposable
{
    public const int MaxCsrLength = 16 * 1024;
    public const string NodesGroup = NodeCredentials.NodesGroup;
    public const string KubeProxyUser = NodeCredentials.KubeProxyUser;

    public string ServerCaPem { get; } = serverCa.CertificatePem;
    public string ClientCaPem { get; } = clientCa.CertificatePem;

    public static string NodeUser(string nodeName) => NodeCredentials.NodeUser(nodeName);

    /// <summary>The CSR policy for a node: its name (and localhost) and the addresses it may claim (loopback and the one it connects from).</summary>
    public static CsrPolicy PolicyFor(NodeCertificateKind kind, string nodeName, IReadOnlyCollection<IPAddress> nodeAddresses) => kind switch
    {
        NodeCertificateKind.KubeletClient => new CsrPolicy(NodeUser(nodeName), [NodesGroup], CertificateUsage.Client, [], []),
        NodeCertificateKind.KubeletServing => new CsrPolicy(NodeUser(nodeName), [NodesGroup], CertificateUsage.Server,
            [nodeName, "localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback, .. nodeAddresses]),
        _ => new CsrPolicy(KubeProxyUser, [], CertificateUsage.Client, [], []),
    };

    public SignedCertificate Sign(NodeCertificateKind kind, string csrPem, string nodeName, IReadOnlyCollection<IPAddress> nodeAddresses)
    {
        if (csrPem.Length > MaxCsrLength)
        {
            throw new CsrRejectedException($"the CSR is {csrPem.Length} bytes; at most {MaxCsrLength} are accepted");
        }
        var ca = kind == NodeCertificateKind.KubeletServing ? serverCa : clientCa;
        byte[] certificate;
        try
        {
            certificate = signer.Sign(csrPem, ca, PolicyFor(kind, nodeName, nodeAddresses));
        }
        catch (CsrRejectedException e) when (kind == NodeCertificateKind.KubeletServing)
        {
            throw new CsrRejectedException($"{e.Message}. A kubelet serving certificate may name the node ({nodeName}), localhost, loopback and the " +
                $"address the node connects from ({string.Join(", ", nodeAddresses)}); set node-ip to that address.");
        }
        return new SignedCertificate(PemEncoding.WriteString("CERTIFICATE", certificate) + "\n", kind == NodeCertificateKind.KubeletServing ? ServerCaPem : ClientCaPem, ServerCaPem);
    }

    public static string Describe(NodeCertificateKind kind) => kind switch
    {
        NodeCertificateKind.KubeletClient => "kubelet client",
        NodeCertificateKind.KubeletServing => "kubelet serving",
        _ => "kube-proxy client",
    };

    /// <summary>Loads the client and server CAs (certificate and key) of a server's PKI.</summary>
    public static NodeCertificateSigner Load(CryptoService crypto, ServerPkiPaths paths) =>
        new(new CsrSigner(crypto), PkiFiles.LoadCa(crypto, paths.ClientCa), PkiFiles.LoadCa(crypto, paths.ServerCa));

    public void Dispose()
    {
        clientCa.Dispose();
        serverCa.Dispose();
    }
}

/// <summary>Reads certificates and keys of the server PKI from disk.</summary>
public static class PkiFiles
{
    public static IssuedCertificate LoadCa(CryptoService crypto, CertificateFiles files)
    {
        if (!File.Exists(files.Certificate) || !File.Exists(files.Key))
        {
            throw new PkiException($"{files.Certificate} or its key {files.Key} is missing; the server PKI is created by `bulwark server` (or received from the first server when joining)");
        }
        var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(files.Certificate));
        var key = crypto.ImportPrivateKeyPem(File.ReadAllText(files.Key), files.Key);
        return new IssuedCertificate(certificate, key);
    }
}
