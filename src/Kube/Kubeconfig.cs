using Bulwark.ControlPlane;
using Bulwark.Pki;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Kube;

/// <summary>
/// A kubeconfig's one context: the cluster Bulwark's clients dial and the user they present. Bulwark writes them with
/// credentials referenced by path (the PKI keeps them 0600), or embedded as base64 data for the admin copy a person
/// takes elsewhere; it reads any kubeconfig's current context, and refuses what its client will not do (exec and
/// auth-provider plugins, basic auth, skipping TLS verification) instead of silently connecting another way.
/// </summary>
public sealed record Kubeconfig(string Server, string User, Credential? CertificateAuthority, Credential? ClientCertificate, Credential? ClientKey,
    string? Token = null)
{
    private const string ClusterName = "bulwark";

    /// <summary>A kubeconfig for one of Bulwark's own client certificates.</summary>
    public static Kubeconfig ForCertificate(string server, string user, string caFile, CertificateFiles client) =>
        new(server, user, Credential.File(caFile), Credential.File(client.Certificate), Credential.File(client.Key));

    public string ToYaml()
    {
        var cluster = YamlNodes.Map(("server", YamlNodes.Str(Server)), CertificateAuthority?.ToEntry("certificate-authority") ?? default);
        var user = YamlNodes.Map(ClientCertificate?.ToEntry("client-certificate") ?? default, ClientKey?.ToEntry("client-key") ?? default,
            Token is null ? default : ("token", YamlNodes.Str(Token)));
        var root = YamlNodes.Map(
            ("apiVersion", YamlNodes.Str("v1")),
            ("kind", YamlNodes.Str("Config")),
            ("clusters", YamlNodes.Seq(YamlNodes.Map(("name", YamlNodes.Str(ClusterName)), ("cluster", cluster)))),
            ("contexts", YamlNodes.Seq(YamlNodes.Map(("name", YamlNodes.Str(ClusterName)),
                ("context", YamlNodes.Map(("cluster", YamlNodes.Str(ClusterName)), ("user", YamlNodes.Str(User))))))),
            ("current-context", YamlNodes.Str(ClusterName)),
            ("preferences", new YamlMappingNode()),
            ("users", YamlNodes.Seq(YamlNodes.Map(("name", YamlNodes.Str(User)), ("user", user)))));
        return YamlNodes.Serialize(root);
    }

    /// <summary>
    /// The current context of a kubeconfig (or its only context when none is current), as kubectl resolves it. Relative
    /// credential paths are relative to the kubeconfig's folder, as in kubectl.
    /// </summary>
    public static Kubeconfig Parse(string yaml, string path)
    {
        try
        {
            return ParseUnchecked(yaml, path);
        }
        catch (ControlPlaneDataException e)
        {
            throw new KubeconfigException(e.Message);
        }
    }

    private static Kubeconfig ParseUnchecked(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var r = new YamlNodes.Reader(path);
        if (r.OptionalString(root, "kind") is { } kind && kind != "Config")
        {
            throw r.Error(root, $"kind is \"{kind}\"; a kubeconfig has kind: Config");
        }
        var contexts = Named(r, root, "contexts", "context");
        var current = r.OptionalString(root, "current-context") is { Length: > 0 } name ? name
            : contexts.Count == 1 ? contexts.Keys.Single()
            : throw r.Error(root, "current-context is not set; set it (kubectl config use-context NAME) or give a kubeconfig with one context");
        var context = contexts.TryGetValue(current, out var found) ? found : throw r.Error(root, $"current-context \"{current}\" is not among its contexts ({string.Join(", ", contexts.Keys)}); set current-context to one of them");
        var clusterName = r.NonEmptyString(context, "cluster");
        var userName = r.NonEmptyString(context, "user");
        var cluster = Named(r, root, "clusters", "cluster").GetValueOrDefault(clusterName) ?? throw r.Error(context, $"cluster \"{clusterName}\" is not among its clusters; add it or point the context at one that is");
        var user = Named(r, root, "users", "user").GetValueOrDefault(userName) ?? throw r.Error(context, $"user \"{userName}\" is not among its users; add it or point the context at one that is");

        if (r.OptionalString(cluster, "insecure-skip-tls-verify") is "true")
        {
            throw r.Error(cluster, $"cluster \"{clusterName}\" sets insecure-skip-tls-verify; Bulwark verifies the apiserver's certificate: give its CA as certificate-authority(-data)");
        }
        foreach (var unsupported in new[] { "exec", "auth-provider", "username", "password" })
        {
            if (user.Children.ContainsKey(new YamlScalarNode(unsupported)))
            {
                throw r.Error(user, $"user \"{userName}\" authenticates with {unsupported}, which Bulwark's client does not run; use a client certificate or a token (the admin kubeconfig Bulwark writes has one)");
            }
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var token = r.OptionalString(user, "token") ?? (r.OptionalString(user, "tokenFile") is { } tokenFile ? File.ReadAllText(Path.Combine(folder, tokenFile)).Trim() : null);
        var certificate = Credential.Read(user, "client-certificate", r, folder);
        var key = Credential.Read(user, "client-key", r, folder);
        if ((certificate is null) != (key is null))
        {
            throw r.Error(user, $"user \"{userName}\" has a client certificate or a client key, not both; give client-certificate and client-key together");
        }
        if (certificate is null && token is null)
        {
            throw r.Error(user, $"user \"{userName}\" has no client certificate and no token; give client-certificate and client-key, or a token");
        }
        return new Kubeconfig(r.NonEmptyString(cluster, "server"), userName, Credential.Read(cluster, "certificate-authority", r, folder), certificate, key, token);
    }

    /// <summary>A kubeconfig list (clusters, contexts, users) by name, each entry's inner mapping.</summary>
    private static Dictionary<string, YamlMappingNode> Named(YamlNodes.Reader r, YamlMappingNode root, string list, string inner) =>
        r.OptionalSequence(root, list).Select(entry => r.AsMapping(entry, $"an entry of {list}"))
            .ToDictionary(entry => r.NonEmptyString(entry, "name"), entry => r.Mapping(entry, inner), StringComparer.Ordinal);
}
