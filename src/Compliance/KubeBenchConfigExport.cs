using Bulwark.Compliance.Catalog;
using Bulwark.FileSystem;
using Bulwark.Resources;

namespace Bulwark.Compliance;

/// <summary>
/// Writes the kube-bench config dir for Bulwark's layout (policies/kube-bench: config.yaml with Bulwark's
/// binaries, files and data dir, and the bulwark-cis-1.12 controls) for users to hand to their own kube-bench.
/// </summary>
public static class KubeBenchConfigExport
{
    public const string Root = "policies/kube-bench/";

    /// <summary>Writes every file (each atomically) and returns their paths; refuses to overwrite, and removes what it wrote when a write fails.</summary>
    public static IReadOnlyList<string> Export(EmbeddedData data, string directory)
    {
        var files = EmbeddedData.List(Root).Select(name => (Name: name, Target: Path.Combine(directory, name[Root.Length..]))).ToList();
        var existing = files.Where(f => File.Exists(f.Target)).Select(f => f.Target).ToList();
        if (existing.Count > 0)
        {
            throw new CatalogException($"--export-kube-bench-config {directory}: {string.Join(", ", existing)} already exist; pass an empty or new folder (nothing was written).");
        }
        var written = new List<string>();
        try
        {
            foreach (var (name, target) in files)
            {
                AtomicFile.EnsureDirectory(Path.GetDirectoryName(target)!, AtomicFile.PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                AtomicFile.WriteAllText(target, data.ReadText(name), AtomicFile.WorldReadable);
                written.Add(target);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var path in written)
            {
                File.Delete(path);
            }
            throw new CatalogException($"--export-kube-bench-config {directory}: {e.Message}; check the folder is writable (nothing was kept).");
        }
        return written;
    }
}
