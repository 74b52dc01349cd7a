using System.Text.RegularExpressions;

namespace Bulwark.Runtime;

/// <summary>
/// Image names as the kubelet and containerd's CRI spell them: docker's normalisation (a bare name is
/// <c>docker.io/library/NAME</c>, a missing tag is <c>:latest</c>; the first part is a registry only if it has a dot,
/// a colon or is <c>localhost</c>).
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    public override string ToString() => Digest is null ? Name : $"{Name}@{Digest}";

    /// <summary>Parses and normalises a reference; null when it is not a valid image name (e.g. a bare tag).</summary>
    public static ImageReference? TryParse(string reference)
    {
        var match = Grammar().Match(reference);
        if (!match.Success)
        {
            return null;
        }
        var name = match.Groups["name"].Value;
        var slash = name.IndexOf('/');
        string registry, repository;
        if (slash > 0 && (name[..slash].Contains('.') || name[..slash].Contains(':') || name[..slash] == "localhost"))
        {
            registry = name[..slash];
            repository = name[(slash + 1)..];
        }
        else
        {
            registry = DockerHub;
            repository = name;
        }
        if (registry is "index.docker.io" or "registry-1.docker.io")
        {
            registry = DockerHub;
        }
        if (registry == DockerHub && !repository.Contains('/'))
        {
            repository = "library/" + repository;
        }
        if (repository.Any(char.IsUpper))
        {
            return null;
        }
        var tag = match.Groups["tag"].Success ? match.Groups["tag"].Value : null;
        var digest = match.Groups["digest"].Success ? match.Groups["digest"].Value : null;
        return new ImageReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
    }

    /// <summary>True for a reference that names a repository (has a slash or a colon before a tag), not a bare tag like "latest".</summary>
    public static bool IsBareTag(string reference) => !reference.Contains('/') && !reference.Contains(':') && !reference.Contains('@');

    /// <summary>What is asked of a registry (the distribution API): the digest when pinned, else the tag.</summary>
    public string Reference => Digest ?? Tag!;

    /// <summary>The full name as runtimes store it: docker.io/library/busybox:1.36 (tag kept even when a digest pins it).</summary>
    public string Name => $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}";

    /// <summary>The same image under another registry (a private registry it is imported to).</summary>
    public ImageReference In(string registry) => this with { Registry = registry };

    [GeneratedRegex(@"^(?<name>[a-zA-Z0-9][a-zA-Z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>[a-z0-9]+:[a-f0-9]{32,}))?$")]
    private static partial Regex Grammar();
}
