using System.Text.Json;
using Bulwark.Config;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.ControlPlane;

/// <summary>
/// What the pinned kube-apiserver accepts in an EncryptionConfiguration and from a KMS v2 plugin, as data
/// (policies/kubernetes/&lt;minor&gt;/encryption-configuration.yaml). <see cref="Check"/> lists every rule a
/// rendered file breaks, so a file kube-apiserver would refuse is never written.
/// </summary>
public sealed class EncryptionConfigurationContract
{
    public static readonly string DataPath = KubernetesContract.Folder + "encryption-configuration.yaml";

    private static readonly Lazy<EncryptionConfigurationContract> BuiltInContract = new(() => Load(EmbeddedData.BuiltIn));

    private readonly YamlMappingNode _root;
    private readonly YamlNodes.Reader _reader = new(DataPath);

    private EncryptionConfigurationContract(YamlMappingNode root) => _root = root;

    public static EncryptionConfigurationContract BuiltIn => BuiltInContract.Value;

    public static EncryptionConfigurationContract Load(EmbeddedData data) => new(YamlNodes.ParseSingleMapping(data.ReadText(DataPath), DataPath));

    public int MaxCiphertextBytes => Int("plugin", "max-ciphertext-bytes");
    public int MaxKeyIdBytes => Int("plugin", "max-key-id-bytes");
    public int MaxAnnotationsBytes => Int("plugin", "max-annotations-bytes");
    public IReadOnlyList<string> StatusVersions => List(Map("plugin"), "status-versions");
    public string HealthzOk => _reader.NonEmptyString(Map("plugin"), "status-healthz-ok");

    /// <summary>Every rule <paramref name="json"/> breaks, as "path: problem"; empty when kube-apiserver would accept it.</summary>
    public IReadOnlyList<string> Check(string json)
    {
        var problems = new List<string>();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Fields(root, List(_root, "fields"), "", problems);
        Expect(root, "kind", _reader.NonEmptyString(_root, "kind"), problems);
        Expect(root, "apiVersion", _reader.NonEmptyString(_root, "apiVersion"), problems);
        if (!root.TryGetProperty("resources", out var resources) || resources.GetArrayLength() == 0)
        {
            problems.Add("resources: at least one resources element is required");
            return problems;
        }
        var providerFields = Map("providers");
        var kmsNames = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var resource in resources.EnumerateArray())
        {
            var at = $"resources[{i++}]";
            Fields(resource, List(_root, "resource-fields"), at + ".", problems);
            if (!resource.TryGetProperty("resources", out var names) || names.GetArrayLength() == 0 || names.EnumerateArray().Any(n => n.GetString() is not { } s || s != s.ToLowerInvariant() || s == "*"))
            {
                problems.Add($"{at}.resources: at least one lower-case resource name is required");
            }
            if (!resource.TryGetProperty("providers", out var providers) || providers.GetArrayLength() == 0)
            {
                problems.Add($"{at}.providers: at least one provider is required");
                continue;
            }
            var j = 0;
            foreach (var provider in providers.EnumerateArray())
            {
                var path = $"{at}.providers[{j++}]";
                var kinds = provider.EnumerateObject().ToList();
                if (kinds.Count != 1 || providerFields.Children.Keys.All(k => ((YamlScalarNode)k).Value != kinds[0].Name))
                {
                    problems.Add($"{path}: exactly one of {string.Join(", ", providerFields.Children.Keys)} is required per element");
                    continue;
                }
                var (kind, body) = (kinds[0].Name, kinds[0].Value);
                Fields(body, List(providerFields, kind), $"{path}.{kind}.", problems);
                if (kind == "kms")
                {
                    CheckKms(body, $"{path}.kms", kmsNames, problems);
                }
                else if (List(_root, "key-fields") is var keyFields && body.TryGetProperty("keys", out var keys))
                {
                    CheckKeys(keys, List(Map("key-bytes"), kind).Select(int.Parse).ToList(), keyFields, $"{path}.{kind}.keys", problems);
                }
                else if (kind != "identity")
                {
                    problems.Add($"{path}.{kind}.keys: at least one key is required");
                }
            }
        }
        return problems;
    }

    private void CheckKms(JsonElement kms, string path, HashSet<string> names, List<string> problems)
    {
        var rules = Map("kms");
        var version = kms.TryGetProperty("apiVersion", out var v) ? v.GetString() ?? "" : "";
        if (!List(rules, "api-versions").Contains(version))
        {
            problems.Add($"{path}.apiVersion: \"{version}\" is not one of {string.Join(", ", List(rules, "api-versions"))}");
        }
        var name = kms.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
        if (name.Length == 0 || name.Contains(_reader.NonEmptyString(rules, "name-forbidden"), StringComparison.Ordinal) || !names.Add(name))
        {
            problems.Add($"{path}.name: \"{name}\" must be non-empty, unique among kms providers and free of '{_reader.NonEmptyString(rules, "name-forbidden")}'");
        }
        var endpoint = kms.TryGetProperty("endpoint", out var e) ? e.GetString() ?? "" : "";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || !List(rules, "endpoint-schemes").Contains(uri.Scheme))
        {
            problems.Add($"{path}.endpoint: \"{endpoint}\" must be a {string.Join("/", List(rules, "endpoint-schemes"))}:// URL");
        }
        foreach (var forbidden in List(rules, "v2-forbidden-fields").Where(f => kms.TryGetProperty(f, out _)))
        {
            problems.Add($"{path}.{forbidden}: not supported in v2");
        }
        var timeout = kms.TryGetProperty("timeout", out var t) ? t.GetString() ?? "" : "";
        if (!Validators.TryParseDuration(timeout, out var duration) || duration <= TimeSpan.Zero)
        {
            problems.Add($"{path}.timeout: \"{timeout}\" must be a positive duration such as 3s");
        }
    }

    private static void CheckKeys(JsonElement keys, IReadOnlyList<int> sizes, IReadOnlyList<string> keyFields, string path, List<string> problems)
    {
        if (keys.GetArrayLength() == 0)
        {
            problems.Add($"{path}: at least one key is required");
        }
        var i = 0;
        foreach (var key in keys.EnumerateArray())
        {
            var at = $"{path}[{i++}]";
            Fields(key, keyFields, at + ".", problems);
            var secret = key.TryGetProperty("secret", out var s) ? s.GetString() ?? "" : "";
            var bytes = new byte[64];
            if (!key.TryGetProperty("name", out var name) || name.GetString() is not { Length: > 0 })
            {
                problems.Add($"{at}.name: required");
            }
            if (!Convert.TryFromBase64String(secret, bytes, out var length) || !sizes.Contains(length))
            {
                problems.Add($"{at}.secret: must be base64 of {string.Join(" or ", sizes)} bytes");
            }
        }
    }

    private static void Fields(JsonElement element, IReadOnlyList<string> allowed, string path, List<string> problems)
    {
        foreach (var property in element.EnumerateObject().Where(p => !allowed.Contains(p.Name)))
        {
            problems.Add($"{path}{property.Name}: unknown field (kube-apiserver reads only {string.Join(", ", allowed)})");
        }
    }

    private static void Expect(JsonElement root, string field, string expected, List<string> problems)
    {
        if (!root.TryGetProperty(field, out var value) || value.GetString() != expected)
        {
            problems.Add($"{field}: must be {expected}");
        }
    }

    private YamlMappingNode Map(string key) => (YamlMappingNode)_root.Children[new YamlScalarNode(key)];

    private int Int(string section, string key) => int.Parse(_reader.NonEmptyString(Map(section), key), System.Globalization.CultureInfo.InvariantCulture);

    private IReadOnlyList<string> List(YamlMappingNode map, string key) => _reader.OptionalStringList(map, key) ?? [];
}
