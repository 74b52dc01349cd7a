using Bulwark.Pipeline;

namespace Bulwark.Airgap;

/// <summary>
/// An image reference split as the distribution API needs it: registry host, repository, tag and/or digest.
/// "busybox" → docker.io/library/busybox:latest, as container runtimes read it.
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    public static ImageReference Parse(string text, string whereForErrors)
    {
        var value = text.Trim();
        if (value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new PipelineException($"{whereForErrors}: '{text}' is not an image reference (host[:port]/repository[:tag][@sha256:digest])");
        }
        string? digest = null;
        var at = value.IndexOf('@');
        if (at >= 0)
        {
            digest = value[(at + 1)..];
            Digests.Hex(digest, whereForErrors);
            value = value[..at];
        }
        string? tag = null;
        var colon = value.LastIndexOf(':');
        if (colon > value.LastIndexOf('/'))
        {
            tag = value[(colon + 1)..];
            value = value[..colon];
        }
        var slash = value.IndexOf('/');
        string registry;
        string repository;
        var first = slash < 0 ? "" : value[..slash];
        if (slash > 0 && (first.Contains('.') || first.Contains(':') || first == "localhost"))
        {
            registry = first;
            repository = value[(slash + 1)..];
        }
        else
        {
            registry = DockerHub;
            repository = slash < 0 ? "library/" + value : value;
        }
        if (registry == "index.docker.io")
        {
            registry = DockerHub;
        }
        if (repository.Length == 0 || repository.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '/'))
            || (tag is not null && (tag.Length == 0 || tag.Length > 128 || tag.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))))
        {
            throw new PipelineException($"{whereForErrors}: '{text}' is not a valid image reference (lower-case repository, tag of letters, digits, '.', '_', '-')");
        }
        return new ImageReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
    }

    /// <summary>What is asked of the registry: the digest when pinned, else the tag.</summary>
    public string Reference => Digest ?? Tag!;

    /// <summary>The full name as runtimes store it: docker.io/library/busybox:1.36 (tag kept even when a digest pins it).</summary>
    public string Name => $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}";

    public override string ToString() => Digest is null ? Name : $"{Name}@{Digest}";

    /// <summary>The same image under another registry (the private registry it is imported to).</summary>
    public ImageReference In(string registry) => this with { Registry = registry };
}
