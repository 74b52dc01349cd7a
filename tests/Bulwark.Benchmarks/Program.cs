using Bulwark.Benchmarks;

// make bench: each figure is printed next to a peer measured in the same run, as a ratio.
// Usage: bulwark-bench [name...]  (no names = all); bulwark-bench startup-profile (make startup-profile) re-records src/bulwark.order
if (args is [StartupProfile.Name])
{
    await StartupProfile.RunAsync(Console.Out);
    return 0;
}
var selected = args.Length == 0 ? null : new HashSet<string>(args, StringComparer.OrdinalIgnoreCase);
var benches = BenchmarkCatalog.All.Where(b => selected is null || selected.Contains(b.Name)).ToList();
if (benches.Count == 0)
{
    Console.Error.WriteLine($"no benchmark named {string.Join(", ", args)}; available: {string.Join(", ", BenchmarkCatalog.All.Select(b => b.Name))}");
    return 2;
}
var failures = 0;
foreach (var bench in benches)
{
    Console.WriteLine($"== {bench.Name}: {bench.Description}");
    try
    {
        await bench.Run(Console.Out);
    }
    catch (Exception e)
    {
        failures++;
        Console.WriteLine($"   FAILED: {e.GetType().Name}: {e.Message}");
    }
    Console.WriteLine();
}
return failures == 0 ? 0 : 1;
