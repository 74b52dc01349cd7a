using System.Net.Security;
using System.Security.Authentication;
using Bulwark.ControlPlane;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Crypto;

/// <summary>
/// The TLS policy of every listener and client Bulwark runs, and the same policy as the flags handed to etcd and
/// Kubernetes components: TLS 1.2 minimum (1.3 preferred), ECDHE with AES-GCM only. Read from policies/crypto/tls.yaml.
/// </summary>
public sealed class TlsPolicy
{
    public const string ResourcePath = "policies/crypto/tls.yaml";

    public TlsPolicy(IReadOnlyList<TlsCipherSuite> tls12Suites, IReadOnlyList<TlsCipherSuite> tls13Suites, IReadOnlyList<string> controls, string rule,
        IReadOnlyList<string>? groups = null)
    {
        if (tls12Suites.Count == 0)
        {
            throw new ArgumentException("the TLS policy needs at least one TLS 1.2 suite", nameof(tls12Suites));
        }
        Tls12Suites = tls12Suites;
        Tls13Suites = tls13Suites;
        Controls = controls;
        Rule = rule;
        Groups = groups ?? ["P-256", "P-384"];
    }

    /// <summary>The built-in policy. Reading it first restricts this process's TLS groups, before any TLS context exists.</summary>
    public static TlsPolicy BuiltIn { get; } = Enforced(Load(EmbeddedData.BuiltIn));

    public IReadOnlyList<TlsCipherSuite> Tls12Suites { get; }
    public IReadOnlyList<TlsCipherSuite> Tls13Suites { get; }
    public IReadOnlyList<string> Controls { get; }
    public string Rule { get; }

    /// <summary>Key-exchange groups, OpenSSL names (P-256, P-384).</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>TLS 1.2 and 1.3; never older.</summary>
    public SslProtocols Protocols => SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Go's name of the minimum version, for Kubernetes' <c>--tls-min-version</c>.</summary>
    public string GoMinVersion => "VersionTLS12";

    /// <summary>The TLS 1.2 suites in Go's crypto/tls names (IANA names), for <c>--cipher-suites</c> and <c>--tls-cipher-suites</c>.</summary>
    public IReadOnlyList<string> GoCipherSuites => Tls12Suites.Select(s => s.ToString()).ToList();

    /// <summary>etcd 3.4 flags (it has no min-version flag: TLS 1.2 is its floor).</summary>
    public IReadOnlyList<string> EtcdArguments() => [$"--cipher-suites={string.Join(',', GoCipherSuites)}"];

    /// <summary>Flags for kube-apiserver, kube-controller-manager, kube-scheduler and kubelet.</summary>
    public IReadOnlyList<string> KubernetesArguments() =>
        [$"--tls-cipher-suites={string.Join(',', GoCipherSuites)}", $"--tls-min-version={GoMinVersion}"];

    public IReadOnlyList<string> OpenSslNames => Tls12Suites.Concat(Tls13Suites).Select(OpenSslName).ToList();

    /// <summary>
    /// The suites .NET may negotiate (Linux: enforced by OpenSSL). One immutable instance: building one creates an OpenSSL
    /// context to look the names up, which must not happen again for every connection.
    /// </summary>
    public CipherSuitesPolicy CipherSuitesPolicy => _cipherSuitesPolicy ??= new(Tls12Suites.Concat(Tls13Suites));

    private CipherSuitesPolicy? _cipherSuitesPolicy;

    public SslClientAuthenticationOptions Apply(SslClientAuthenticationOptions options)
    {
        options.EnabledSslProtocols = Protocols;
        options.CipherSuitesPolicy = CipherSuitesPolicy;
        return options;
    }

    public SslServerAuthenticationOptions Apply(SslServerAuthenticationOptions options)
    {
        options.EnabledSslProtocols = Protocols;
        options.CipherSuitesPolicy = CipherSuitesPolicy;
        return options;
    }

    public static TlsPolicy Load(EmbeddedData data)
    {
        var file = DataFiles.Reader(ResourcePath);
        var root = file.ParseMapping(data.ReadText(ResourcePath));
        var min = file.String(root, "min-version");
        if (min != "1.2")
        {
            throw file.Error(root, $"min-version must be \"1.2\" (NIST SP 800-52 rev2); got \"{min}\"");
        }
        var groups = file.Strings(root, "groups");
        if (groups.Count == 0 || groups.Any(g => g is not ("P-256" or "P-384")))
        {
            throw file.Error(root, $"groups must list P-256 and/or P-384 ({file.String(root, "groups-rule")}); got [{string.Join(", ", groups)}]");
        }
        return new TlsPolicy(
            Suites(file, root, "tls12-suites"), Suites(file, root, "tls13-suites"),
            file.Strings(root, "controls"), file.String(root, "min-version-rule"), groups);
    }

    private static TlsPolicy Enforced(TlsPolicy policy)
    {
        OpenSslTlsGroups.Restrict(policy.Groups);
        return policy;
    }

    private static List<TlsCipherSuite> Suites(YamlNodes.Reader file, YamlMappingNode root, string key) =>
        file.Strings(root, key).Select(name => Enum.TryParse<TlsCipherSuite>(name, out var suite) && suite.ToString() == name
            ? suite
            : throw file.Error(root, $"'{name}' in {key} is not a TLS cipher suite name")).ToList();

    /// <summary>OpenSSL's name of a suite (what `openssl ciphers` and s_client use).</summary>
    public static string OpenSslName(TlsCipherSuite suite) => suite switch
    {
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        _ => suite.ToString(),
    };
}
