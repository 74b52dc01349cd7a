namespace Bulwark.Airgap;

/// <summary>Where and how to reach a registry: base URI (https unless a mirror says http), credentials, CA, TLS checks.</summary>
public sealed record RegistryEndpoint(Uri BaseUri, string? Username = null, string? Password = null, string? CaFile = null, bool InsecureSkipVerify = false)
{
    public string Host => BaseUri.IsDefaultPort ? BaseUri.Host : $"{BaseUri.Host}:{BaseUri.Port}";

    public static RegistryEndpoint For(string host) => new(new Uri(host == ImageReference.DockerHub ? "https://registry-1.docker.io" : $"https://{host}"));

    public override string ToString() => BaseUri.ToString().TrimEnd('/');
}
