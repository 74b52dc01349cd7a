using System.Diagnostics;
using Bulwark.Config;
using Bulwark.ControlPlane;

namespace Bulwark.Benchmarks;

/// <summary>
/// Rendering the hardened control plane happens on every server start: measured against writing the same files
/// (same count, same bytes) with File.WriteAllText, which does no validation, no fsync and no rename.
/// </summary>
public static class ControlPlaneBenchmarks
{
    public static readonly Benchmark Render = new("control-plane", "render the full CIS control plane vs. File.WriteAllText of the same files", async output =>
    {
        var root = Directory.CreateTempSubdirectory("bulwark-bench-cp-");
        try
        {
            const int rounds = 30;
            var renderer = new ControlPlaneRenderer();
            EffectiveConfig ConfigFor(string dir)
            {
                var file = Path.Combine(dir, "etc", "config.yaml");
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, $"data-dir: {Path.Combine(dir, "data")}\nprofile: cis-1.23\nnode-name: bench\nnode-ip: 127.0.0.1\nsingle-host-demo: true\n");
                return ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), [])).Config!;
            }

            // Warm up, and collect the files a render writes (to replay them with File.WriteAllText).
            var warm = Path.Combine(root.FullName, "warm");
            var sample = await renderer.RenderAsync(ConfigFor(warm), Path.Combine(warm, "etc"));
            var contents = sample.Files.Select(f => (Relative: Path.GetRelativePath(warm, f.Path), Text: File.ReadAllText(f.Path))).ToList();

            var configs = Enumerable.Range(0, rounds).Select(i => (Dir: Path.Combine(root.FullName, "r" + i), Config: ConfigFor(Path.Combine(root.FullName, "r" + i)))).ToList();
            var watch = Stopwatch.StartNew();
            foreach (var (dir, config) in configs)
            {
                await renderer.RenderAsync(config, Path.Combine(dir, "etc"));
            }
            var fresh = watch.Elapsed.TotalMilliseconds / rounds;

            watch.Restart();
            foreach (var (dir, config) in configs)
            {
                await renderer.RenderAsync(config, Path.Combine(dir, "etc"));
            }
            var unchanged = watch.Elapsed.TotalMilliseconds / rounds;

            var plainDirs = Enumerable.Range(0, rounds).Select(i => Path.Combine(root.FullName, "p" + i)).ToList();
            foreach (var dir in plainDirs)
            {
                foreach (var folder in contents.Select(c => Path.GetDirectoryName(Path.Combine(dir, c.Relative))!).Distinct())
                {
                    Directory.CreateDirectory(folder);
                }
            }
            watch.Restart();
            foreach (var dir in plainDirs)
            {
                foreach (var (relative, text) in contents)
                {
                    File.WriteAllText(Path.Combine(dir, relative), text);
                }
            }
            var plain = watch.Elapsed.TotalMilliseconds / rounds;

            output.WriteLine($"   {contents.Count} files per render");
            output.WriteLine($"   first render (validate + atomic fsync'd writes): {fresh:0.00} ms; File.WriteAllText of the same files: {plain:0.00} ms; ratio {fresh / plain:0.0}x");
            output.WriteLine($"   repeat render (nothing changed, nothing written): {unchanged:0.00} ms; ratio to File.WriteAllText {unchanged / plain:0.0}x");
        }
        finally
        {
            root.Delete(true);
        }
    });
}
