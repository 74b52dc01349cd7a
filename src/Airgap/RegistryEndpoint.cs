using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>Where and how to reach a registry: base URI (https unless a mirror says http), credentials, CA, TLS checks.</summary>
public sealed record RegistryEndpoint(Uri BaseUri, string? Username = null, string? Password = null, string? CaFile = null, bool InsecureSkipVerify = false)
{
    public string Host => BaseUri.IsDefaultPort ? BaseUri.Host : $"{BaseUri.Host}:{BaseUri.Port}";

    public static RegistryEndpoint For(string host) => new(new Uri(RegistryHosts.DefaultEndpoint(host)));

    /// <summary>Where to pull an image of a registry from, as containerd would: its mirrors (or the "*" ones) in order, then the registry itself.</summary>
    public static IReadOnlyList<RegistryEndpoint> Resolve(RegistriesFile registries, string registry)
    {
        var mirror = registries.Mirrors.GetValueOrDefault(registry) ?? registries.Mirrors.GetValueOrDefault("*");
        return (mirror?.Endpoints ?? [])
            .Select(e => new RegistryEndpoint(new Uri(e.Contains("://", StringComparison.Ordinal) ? e : "https://" + e)))
            .Append(For(registry))
            .Select(e => e.WithConfig(registries))
            .ToList();
    }

    /// <summary>Adds credentials and TLS settings from configs.&lt;host&gt;.</summary>
    public RegistryEndpoint WithConfig(RegistriesFile registries) => registries.Configs.GetValueOrDefault(Host) is not { } config
        ? this
        : this with
        {
            Username = config.Auth?.Username ?? Username,
            Password = config.Auth?.Password ?? Password,
            CaFile = config.Tls?.CaFile ?? CaFile,
            InsecureSkipVerify = config.Tls?.InsecureSkipVerify == true || InsecureSkipVerify,
        };

    /// <summary>The file with each source registry (and this one) mirrored here, and how to reach this registry recorded.</summary>
    public RegistriesFile MirrorIn(RegistriesFile registries, IEnumerable<string> sourceRegistries) =>
        registries.WithMirror(sourceRegistries.Append(Host).Distinct(StringComparer.Ordinal), ToString(), Host, new RegistryHostConfig(
            Username is null ? null : new RegistryAuth(Username, Password ?? "", null, null),
            CaFile is null ? null : new RegistryTls(Path.GetFullPath(CaFile), null, null, false)));

    public override string ToString() => BaseUri.ToString().TrimEnd('/');
}
