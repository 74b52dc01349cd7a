using System.Reflection;

namespace Bulwark.Resources;

/// <summary>
/// The policy data shipped in the binary (policies/, hardening/, stig/, pipeline/), by repository-relative path.
/// An override folder, when given, is consulted first so operators can replace a file without rebuilding.
/// </summary>
public sealed class EmbeddedData(string? overrideDirectory = null)
{
    public static readonly EmbeddedData BuiltIn = new();

    public string ReadText(string path)
    {
        if (overrideDirectory is not null)
        {
            var onDisk = Path.Combine(overrideDirectory, path);
            if (File.Exists(onDisk))
            {
                return File.ReadAllText(onDisk);
            }
        }
        using var stream = typeof(EmbeddedData).Assembly.GetManifestResourceStream(path)
            ?? throw new FileNotFoundException($"built-in data file '{path}' is missing from this build of bulwark", path);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Paths of the built-in files under a folder, e.g. "policies/cis/cis-1.23/".</summary>
    public static IReadOnlyList<string> List(string folder) =>
        typeof(EmbeddedData).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(folder, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static Assembly Assembly => typeof(EmbeddedData).Assembly;
}
