using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Kube;
using Bulwark.Pki;
using Microsoft.Extensions.Logging;

namespace Bulwark.Supervisor;

/// <summary>What an agent join needs: where its state goes, whom to join, with what token, as which node.</summary>
public sealed record AgentJoinOptions(string DataDir, Uri Server, string Token, string NodeName, IReadOnlyList<IPAddress> NodeAddresses)
{
    /// <summary>with-node-id: append a stable random id (kept in agent/node-id) so hosts with the same hostname get distinct names.</summary>
    public bool WithNodeId { get; init; }

    /// <summary>How long to keep retrying while the server is not reachable or not ready.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>One signed node certificate with the key generated for it (PEM) and the CA that signed it.</summary>
public sealed record NodeCertificateMaterial(NodeCertificateKind Kind, string CertificatePem, string KeyPem, string CaPem)
{
    public override string ToString() => $"{Kind} certificate (key redacted)";
}

/// <summary>What a join obtained over the network, before anything but the node password is written.</summary>
public sealed record AgentMaterial(string NodeName, AgentClusterConfig Config, byte[] CaBundle, bool CaPinned, IReadOnlyList<NodeCertificateMaterial> Certificates);

/// <summary>What the join wrote.</summary>
public sealed record AgentJoinResult(string NodeName, AgentClusterConfig Config, IReadOnlyList<string> FilesWritten, bool CaPinned);

/// <summary>An agent's view of the node layout (<see cref="NodeLayout"/>, docs/layout.md).</summary>
public sealed record AgentPaths(string DataDir)
{
    public NodeLayout Layout => new(DataDir);
    public string AgentDir => Layout.AgentDir;
    public string EtcDir => Layout.AgentEtcDir;
    public string NodePassword => Layout.NodePassword;
    public string NodeId => Layout.NodeId;
    public string ServerCa => Layout.AgentServerCa;
    public string ClientCa => Layout.AgentClientCa;
    public string KubeletKubeconfig => Layout.KubeletKubeconfig;
    public string KubeProxyKubeconfig => Layout.KubeProxyKubeconfig;
    public string AgentConfig => Layout.AgentConfig;

    public CertificateFiles Files(NodeCertificateKind kind) => kind switch
    {
        NodeCertificateKind.KubeletClient => new(Path.Combine(AgentDir, "client-kubelet.crt"), Path.Combine(AgentDir, "client-kubelet.key")),
        NodeCertificateKind.KubeletServing => new(Path.Combine(AgentDir, "serving-kubelet.crt"), Path.Combine(AgentDir, "serving-kubelet.key")),
        _ => new(Path.Combine(AgentDir, "client-kube-proxy.crt"), Path.Combine(AgentDir, "client-kube-proxy.key")),
    };
}

/// <summary>
/// Joins an agent: pins the cluster CA, fetches the agent config, generates each key here (keys never leave the node),
/// has the server sign CSRs for the kubelet client, kubelet serving and kube-proxy certificates, and writes them with the
/// kubeconfigs under &lt;data-dir&gt;/agent. A wrong token or a foreign CA changes nothing on disk.
/// </summary>
public sealed class AgentJoin(CryptoService crypto, ILogger logger)
{
    private static readonly NodeCertificateKind[] Kinds = [NodeCertificateKind.KubeletClient, NodeCertificateKind.KubeletServing, NodeCertificateKind.KubeProxy];

    public async Task<AgentJoinResult> RunAsync(AgentJoinOptions options, CancellationToken cancellationToken)
    {
        var material = await ObtainAsync(options, cancellationToken).ConfigureAwait(false);
        return Write(options, material);
    }

    /// <summary>
    /// The network part of a join: pin the CA, fetch the config, generate keys and have each CSR signed. Only the node
    /// password (and node id) are written, after the token was accepted; everything else is returned for <see cref="Write"/>.
    /// </summary>
    public async Task<AgentMaterial> ObtainAsync(AgentJoinOptions options, CancellationToken cancellationToken)
    {
        var token = ParseToken(options.Token);
        var paths = new AgentPaths(options.DataDir);
        using var client = await JoinRetry.RunAsync(ct => SupervisorClient.ConnectAsync(options.Server, token, ClusterToken.AgentUser, crypto, logger, ct),
            options.ReadyTimeout, logger, "fetching the cluster CA", cancellationToken).ConfigureAwait(false);
        // /v1/config proves the token before anything is written.
        var config = await JoinRetry.RunAsync(client.GetConfigAsync, options.ReadyTimeout, logger, "fetching the agent config", cancellationToken).ConfigureAwait(false);
        AtomicFile.EnsureDirectory(options.DataDir, AtomicFile.PrivateDirectory);
        AtomicFile.EnsureDirectory(paths.AgentDir, AtomicFile.PrivateDirectory);
        var nodeName = options.WithNodeId ? $"{options.NodeName}-{NodePasswords.ReadOrCreate(crypto, paths.NodeId, 4)}" : options.NodeName;
        // Kept before any certificate is asked for: the server records its hash at the first request.
        var nodePassword = NodePasswords.ReadOrCreate(crypto, paths.NodePassword);
        var issued = new List<NodeCertificateMaterial>();
        // The client CA signs two of the three certificates: each CA the server names is parsed once per join.
        var issuers = new Dictionary<string, X509Certificate2Collection>(StringComparer.Ordinal);
        foreach (var kind in Kinds)
        {
            using var key = crypto.GenerateKey(KeyAlgorithm.EcdsaP256);
            var csr = CreateCsr(kind, key, nodeName, options.NodeAddresses);
            var signed = await JoinRetry.RunAsync(ct => client.SignAsync(kind, csr, nodeName, nodePassword, ct), options.ReadyTimeout, logger,
                $"requesting the {NodeCertificateSigner.Describe(kind)} certificate", cancellationToken).ConfigureAwait(false);
            Check(kind, signed, key, kind == NodeCertificateKind.KubeletServing ? client.TrustedCas : IssuersOf(signed.IssuingCa, issuers));
            issued.Add(new NodeCertificateMaterial(kind, signed.Certificate, key.ExportPkcs8PrivateKeyPem() + "\n", signed.IssuingCa));
        }
        return new AgentMaterial(nodeName, config, client.CaBundle, token.IsFull, issued);
    }

    /// <summary>Writes what <see cref="ObtainAsync"/> obtained: certificates, keys (0600), CAs, kubeconfigs and the agent config.</summary>
    public AgentJoinResult Write(AgentJoinOptions options, AgentMaterial material)
    {
        var paths = new AgentPaths(options.DataDir);
        var (nodeName, config, issued) = (material.NodeName, material.Config, material.Certificates);
        var written = new List<string>();
        void Write(string path, string content)
        {
            AtomicFile.WriteAllText(path, content, AtomicFile.Private);
            written.Add(path);
        }
        Write(paths.ServerCa, Encoding.ASCII.GetString(material.CaBundle));
        Write(paths.ClientCa, issued.First(i => i.Kind == NodeCertificateKind.KubeletClient).CaPem);
        foreach (var (kind, certificatePem, keyPem, _) in issued)
        {
            var files = paths.Files(kind);
            Write(files.Key, keyPem);
            Write(files.Certificate, certificatePem);
        }
        var apiserver = config.ApiserverEndpoints.FirstOrDefault() ?? $"https://{options.Server.Host}:6443";
        Write(paths.KubeletKubeconfig, Kubeconfig.ForCertificate(apiserver, NodeCertificateSigner.NodeUser(nodeName), paths.ServerCa, paths.Files(NodeCertificateKind.KubeletClient)).ToYaml());
        Write(paths.KubeProxyKubeconfig, Kubeconfig.ForCertificate(apiserver, NodeCertificateSigner.KubeProxyUser, paths.ServerCa, paths.Files(NodeCertificateKind.KubeProxy)).ToYaml());
        AtomicFile.EnsureDirectory(paths.EtcDir, AtomicFile.PrivateDirectory);
        Write(paths.AgentConfig, JsonSerializer.Serialize(config, SupervisorJsonContext.Default.AgentClusterConfig) + "\n");
        logger.LogInformation("agent {Node} joined {Server}: kubelet client/serving and kube-proxy certificates and kubeconfigs written to {Dir}",
            nodeName, options.Server, paths.AgentDir);
        return new AgentJoinResult(nodeName, config, written, material.CaPinned);
    }

    public static ClusterToken ParseToken(string text)
    {
        try
        {
            return ClusterToken.Parse(text);
        }
        catch (TokenFormatException e)
        {
            throw new JoinException($"the token is not usable: {e.Message}");
        }
    }

    /// <summary>A CSR for the node identity the server expects (subject encoded exactly as the server PKI encodes it).</summary>
    internal static string CreateCsr(NodeCertificateKind kind, AsymmetricAlgorithm key, string nodeName, IReadOnlyList<IPAddress> addresses)
    {
        var (cn, organizations) = kind == NodeCertificateKind.KubeProxy
            ? (NodeCertificateSigner.KubeProxyUser, Array.Empty<string>())
            : (NodeCertificateSigner.NodeUser(nodeName), new[] { NodeCertificateSigner.NodesGroup });
        var subject = CertificateIssuer.Subject(cn, organizations);
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, CryptoService.SignatureHashFor(ec)),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(key.GetType().Name),
        };
        if (kind == NodeCertificateKind.KubeletServing)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(nodeName);
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            foreach (var address in addresses)
            {
                san.AddIpAddress(address);
            }
            request.CertificateExtensions.Add(san.Build());
        }
        return request.CreateSigningRequestPem();
    }

    /// <summary>
    /// The signed certificate must be for our key and signed by one of <paramref name="issuers"/>: the pinned cluster CA for
    /// the kubelet serving certificate (the agent trusts nothing else to name it), the CA the server named for the others.
    /// </summary>
    private static void Check(NodeCertificateKind kind, SignedCertificate signed, AsymmetricAlgorithm key, X509Certificate2Collection issuers)
    {
        // Checked on the DER itself: decoding it into an X509Certificate2 (OpenSSL) would be the costliest step of the check.
        var certificate = PemEncoding.TryFind(signed.Certificate, out var pem) && signed.Certificate[pem.Label] == "CERTIFICATE"
            ? Convert.FromBase64String(signed.Certificate[pem.Base64Data])
            : throw new JoinException($"the server returned a {NodeCertificateSigner.Describe(kind)} certificate that is not PEM; refusing it");
        if (!CertificateSignature.SubjectPublicKeyInfoOf(certificate).Span.SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new JoinException($"the server returned a {NodeCertificateSigner.Describe(kind)} certificate for another key; refusing it");
        }
        if (!issuers.Any(ca => CertificateSignature.IsIssuedBy(certificate, ca)))
        {
            throw new JoinException(kind == NodeCertificateKind.KubeletServing
                ? "the kubelet serving certificate was not issued by the pinned cluster CA; refusing it"
                : $"the {NodeCertificateSigner.Describe(kind)} certificate does not chain to the CA the server sent; refusing it");
        }
    }

    private static X509Certificate2Collection IssuersOf(string pem, Dictionary<string, X509Certificate2Collection> parsed)
    {
        if (!parsed.TryGetValue(pem, out var cas))
        {
            cas = [];
            try
            {
                cas.ImportFromPem(pem);
            }
            catch (CryptographicException e)
            {
                throw new JoinException("the server named a signing CA that is not a PEM certificate; refusing it", e);
            }
            parsed[pem] = cas;
        }
        return cas;
    }
}
