using Bulwark.Cni;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.FileSystem;
using Bulwark.Resources;

namespace Bulwark.Addons;

/// <summary>
/// The server's add-on stage: writes the selected CNI's HelmCharts and helm-controller into server/manifests (and
/// removes other CNIs' charts). Nothing is written when the choice is refused (WireGuard under FIPS, a changed primary).
/// </summary>
public static class AddonStage
{
    public static IReadOnlyList<RenderedFile> Render(EffectiveConfig config, EmbeddedData data)
    {
        var files = new CniAddonRenderer(CniCatalog.Load(data), ApiResourceTable.Load(data)).Render(config).ToList();
        var path = Path.Combine(new AddonPaths(config.DataDir).Manifests, HelmControllerManifest.FileName);
        files.Add(new RenderedFile(path, AtomicFile.WriteIfChanged(path, HelmControllerManifest.Render(config, data), AtomicFile.Private)
            ? FileChange.Written : FileChange.Unchanged, "helm-controller"));
        return files;
    }

    /// <summary>Every image the selected add-ons run (CNI images from policies/cni, helm-controller's), with system-default-registry.</summary>
    public static IReadOnlyList<string> Images(EffectiveConfig config, EmbeddedData data) =>
        CniCatalog.Load(data).For(CniSelection.From(config)).SelectMany(s => s.Images).Select(i => HelmControllerManifest.WithRegistry(i, config))
            .Concat(HelmControllerManifest.Images(config, data)).Distinct().ToList();

    public static string Summary(IReadOnlyList<RenderedFile> files, CniSelection selection) =>
        $"cni {selection.Display}: {files.Count(f => f.Change == FileChange.Written)} written, {files.Count(f => f.Change == FileChange.Unchanged)} unchanged, " +
        $"{files.Count(f => f.Change == FileChange.Removed)} removed ({string.Join(", ", files.Where(f => f.Change != FileChange.Removed).Select(f => Path.GetFileName(f.Path)))})";
}
