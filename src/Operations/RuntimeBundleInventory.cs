using System.Text.Json;
using Bulwark.ControlPlane;

namespace Bulwark.Operations;

/// <summary><c>bulwark runtime status</c>: every installed bundle, the active one, and whether each binary still has its installed digest.</summary>
public static class RuntimeBundleInventory
{
    public static RuntimeBundleStatus Read(string dataDir)
    {
        var root = Path.Combine(dataDir, "data");
        var active = RuntimeBundle.Find(dataDir) is { } bin ? Path.GetFileName(Path.GetDirectoryName(bin)) : null;
        var bundles = new List<InstalledBundle>();
        if (Directory.Exists(root))
        {
            foreach (var folder in Directory.GetDirectories(root).Where(d => !Path.GetFileName(d).StartsWith('.') && !IsLink(d)).Order(StringComparer.Ordinal))
            {
                bundles.Add(ReadBundle(folder, Path.GetFileName(folder) == active));
            }
        }
        return new RuntimeBundleStatus(root, active, bundles);
    }

    private static bool IsLink(string path) => new DirectoryInfo(path).LinkTarget is not null;

    private static InstalledBundle ReadBundle(string folder, bool active)
    {
        var version = Path.GetFileName(folder);
        var manifestPath = Path.Combine(folder, "bundle.json");
        if (!File.Exists(manifestPath))
        {
            var names = Directory.Exists(Path.Combine(folder, "bin")) ? Directory.GetFiles(Path.Combine(folder, "bin")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList() : [];
            return new InstalledBundle(version, folder, active, null, [.. names.Select(n => new InstalledBinary(n, "", false))],
                "no bundle.json: not installed by 'bulwark runtime install', so its binaries were never verified");
        }
        RuntimeBundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllBytes(manifestPath), RuntimeBundleJsonContext.Default.RuntimeBundleManifest);
        }
        catch (JsonException e)
        {
            return new InstalledBundle(version, folder, active, null, [], $"{manifestPath} is unreadable ({e.Message}); reinstall the bundle");
        }
        if (manifest is null)
        {
            return new InstalledBundle(version, folder, active, null, [], $"{manifestPath} is empty; reinstall the bundle");
        }
        var binaries = manifest.Binaries.Select(b =>
        {
            var path = Path.Combine(folder, "bin", b.Name);
            return new InstalledBinary(b.Name, b.Sha512, File.Exists(path) && RuntimeBundleInstaller.HashFile(path) == b.Sha512);
        }).ToList();
        var changed = binaries.Where(b => !b.Intact).Select(b => b.Name).ToList();
        return new InstalledBundle(manifest.KubernetesVersion, folder, active, manifest.InstalledAt, binaries,
            changed.Count > 0 ? $"changed or missing since install: {string.Join(", ", changed)}; reinstall the bundle" : null);
    }
}
