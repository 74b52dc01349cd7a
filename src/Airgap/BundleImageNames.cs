using Bulwark.Pipeline;
using Bulwark.Runtime;

namespace Bulwark.Airgap;

/// <summary>Image names read from an image list or a bundle index: parsed as runtimes normalise them, refused with where they were read.</summary>
public static class BundleImageNames
{
    public static ImageReference Parse(string text, string whereForErrors) =>
        ImageReference.TryParse(text.Trim()) ?? throw new PipelineException(
            $"{whereForErrors}: '{text}' is not a valid image reference (host[:port]/repository[:tag][@sha256:digest], lower-case repository, tag of letters, digits, '.', '_', '-')");
}
