using System.Diagnostics;
using Bulwark.Config;

namespace Bulwark.Benchmarks;

/// <summary>Config loading must not be felt at start; measured against reading the same file's bytes.</summary>
public static class ConfigBenchmarks
{
    public static readonly Benchmark Load = new("config", "load and validate a 60-key config file vs. reading its bytes", async output =>
    {
        var dir = Directory.CreateTempSubdirectory("bulwark-bench-");
        try
        {
            var file = Path.Combine(dir.FullName, "config.yaml");
            var lines = ConfigKeys.All.Where(k => k is StringKey or IntKey or BoolKey && k != ConfigKeys.TokenFile && k != ConfigKeys.AgentTokenFile)
                .Select(k => $"{k.Name}: \"{k.Format(k.DefaultObject)}\"");
            await File.WriteAllLinesAsync(file, lines);
            var request = new ConfigRequest(ConfigRole.Server, file, new Dictionary<string, string>(), []);
            const int rounds = 2000;
            ConfigLoader.Load(request);
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < rounds; i++)
            {
                ConfigLoader.Load(request);
            }
            var load = watch.Elapsed.TotalMilliseconds / rounds;
            watch.Restart();
            for (var i = 0; i < rounds; i++)
            {
                File.ReadAllBytes(file);
            }
            var read = watch.Elapsed.TotalMilliseconds / rounds;
            output.WriteLine($"   config load: {load:0.000} ms; raw file read: {read:0.000} ms; ratio {load / read:0.0}x");
        }
        finally
        {
            dir.Delete(true);
        }
    });
}
