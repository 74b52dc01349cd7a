using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// A single-cluster, single-user kubeconfig. Credentials are referenced by path (the PKI keeps them 0600), or embedded
/// as base64 data for the admin copy a person takes elsewhere.
/// </summary>
public sealed record Kubeconfig(string Server, string User, Credential CertificateAuthority, Credential ClientCertificate, Credential ClientKey)
{
    private const string ClusterName = "bulwark";

    public string ToYaml()
    {
        var cluster = YamlNodes.Map(("server", YamlNodes.Str(Server)), CertificateAuthority.ToEntry("certificate-authority"));
        var user = YamlNodes.Map(ClientCertificate.ToEntry("client-certificate"), ClientKey.ToEntry("client-key"));
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

    public static Kubeconfig Parse(string yaml, string path)
    {
        var root = YamlNodes.ParseSingleMapping(yaml, path);
        var r = new ManifestReader(path);
        r.Expect(root, "apiVersion", "v1");
        r.Expect(root, "kind", "Config");
        var cluster = r.Mapping((YamlMappingNode)r.Sequence(root, "clusters")[0], "cluster");
        var userEntry = (YamlMappingNode)r.Sequence(root, "users")[0];
        var user = r.Mapping(userEntry, "user");
        return new Kubeconfig(r.String(cluster, "server"), r.String(userEntry, "name"),
            Credential.Read(cluster, "certificate-authority", r), Credential.Read(user, "client-certificate", r), Credential.Read(user, "client-key", r));
    }
}

/// <summary>A credential in a kubeconfig: a file path, or the file's content embedded (base64 in the "-data" field).</summary>
public sealed record Credential(string? Path, string? Base64Data)
{
    public static Credential File(string path) => new(path, null);

    /// <summary>Embeds the file when it exists (so the kubeconfig works when copied elsewhere); references it otherwise.</summary>
    public static Credential EmbedIfPresent(string path) =>
        System.IO.File.Exists(path) ? new(null, Convert.ToBase64String(System.IO.File.ReadAllBytes(path))) : File(path);

    internal (string, YamlNode?) ToEntry(string field) =>
        Base64Data is not null ? (field + "-data", YamlNodes.Str(Base64Data)) : (field, YamlNodes.Str(Path!));

    internal static Credential Read(YamlMappingNode map, string field, ManifestReader r) =>
        map.Children.ContainsKey(new YamlScalarNode(field + "-data")) ? new(null, r.String(map, field + "-data")) : File(r.String(map, field));
}
