using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Etcd;

/// <summary>One hardened etcd setting, as etcd's flag and as its config-file key, with the controls it satisfies.</summary>
public sealed record EtcdHardeningSetting(string Flag, string Key, string Value, IReadOnlyList<string> Controls);

/// <summary>
/// The hardened etcd switches, read from the one place they are declared with their controls: the etcd component spec
/// (policies/components/etcd.yaml). Its flags are mapped to etcd's config-file keys and applied last when rendering.
/// </summary>
public static class EtcdHardening
{
    private static readonly (string Flag, string Key)[] ConfigFileKeys =
    [
        ("client-cert-auth", "client-transport-security.client-cert-auth"),
        ("auto-tls", "client-transport-security.auto-tls"),
        ("peer-client-cert-auth", "peer-transport-security.client-cert-auth"),
        ("peer-auto-tls", "peer-transport-security.auto-tls"),
    ];

    public static IReadOnlyList<EtcdHardeningSetting> Load(EmbeddedData data)
    {
        var path = ComponentSpecLoader.Folder + "etcd.yaml";
        var spec = ComponentSpecLoader.Load(data, path);
        return ConfigFileKeys.Select(entry => spec.Args.FirstOrDefault(a => a.Name == entry.Flag) is { Value: { } value } arg
                ? new EtcdHardeningSetting(entry.Flag, entry.Key, value, arg.Controls)
                : throw new InvalidDataException($"{path}: the hardened etcd argument '{entry.Flag}' is missing"))
            .ToList();
    }
}
