using System.Diagnostics;
using System.Globalization;
using System.Net;
using Bulwark.Processes;
using Bulwark.Tests;

namespace Bulwark.Benchmarks;

/// <summary>
/// `make startup-profile`: records which managed methods dist/bulwark calls while a server starts, idles and serves its
/// KMS plugin, and writes them to src/bulwark.order, the method order ILC lays out the next build by (IlcOrderFile).
/// Why: the kernel maps a binary's cached pages 64 KiB around each page fault, so the ~10,000 methods a server calls,
/// scattered over 14 MiB of code, kept almost all of it resident in every bulwark process; placed together they take
/// ~2.5 MiB. How: first-call.c, preloaded into the server and (inherited) its plugin, traps the first call of each
/// method once. The order: methods both processes call, then the server's own, then the plugin's, each in first-call
/// order, so each process touches one contiguous run of code.
/// </summary>
public static class StartupProfile
{
    public const string Name = "startup-profile";

    private static readonly string[] ManagedCodeSections = ["__managedcode", "__unbox"];
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(15);
    private const int PluginRoundTrips = 20_000;

    public static async Task RunAsync(TextWriter output)
    {
        var binary = AotBenchmarks.Binary;
        var symbols = Path.Combine(RepoPaths.Root, "src", "bin", "Release", "net10.0", "linux-x64", "native", "bulwark.dbg");
        if (!File.Exists(symbols) || await BuildIdAsync(symbols) != await BuildIdAsync(binary))
        {
            throw new InvalidOperationException($"{symbols} is not the symbol file of {binary}: run `make publish` first (make startup-profile does)");
        }
        var work = Directory.CreateTempSubdirectory("bulwark-startup-profile-");
        try
        {
            var shim = Path.Combine(work.FullName, "first-call.so");
            await ProcessRunner.RunCheckedAsync(new ProcessSpec("cc",
                ["-O2", "-shared", "-fPIC", "-o", shim, Path.Combine(RepoPaths.Root, "tests", "Bulwark.Benchmarks", "first-call.c")]));
            var methods = await ManagedMethodsAsync(binary, symbols);
            var offsets = Path.Combine(work.FullName, "offsets");
            await File.WriteAllLinesAsync(offsets, methods.Keys.Order().Select(o => o.ToString("x", CultureInfo.InvariantCulture)));
            output.WriteLine($"   {methods.Count:N0} managed methods in {binary}; starting a server (KMS plugin on) with first-call.c preloaded");

            var (server, plugin) = await ProfileAsync(work.FullName, new Dictionary<string, string>
            {
                ["LD_PRELOAD"] = shim,
                ["BWPROF_OFFSETS"] = offsets,
                ["BWPROF_OUT"] = Path.Combine(work.FullName, "calls"),
            }, output);
            var serverCalls = Called(server, methods);
            var pluginCalls = Called(plugin, methods);
            var both = serverCalls.Intersect(pluginCalls).ToList();
            var serverOnly = serverCalls.Except(pluginCalls).ToList();
            var pluginOnly = pluginCalls.Except(serverCalls).ToList();

            var orderFile = Path.Combine(RepoPaths.Root, "src", "bulwark.order");
            string[] lines = [
                "# Method order of the Native AOT binary (IlcOrderFile in src/Bulwark.csproj), written by `make startup-profile`:",
                "# the methods a server calls while starting and idling and its KMS plugin while serving, in first-call order;",
                "# those both call, then the server's own, then the plugin's. ILC skips names it no longer finds (these lines too).",
                .. both.Concat(serverOnly).Concat(pluginOnly).SelectMany(m => m.Names),
            ];
            FileSystem.AtomicFile.WriteAllText(orderFile, string.Join('\n', lines) + "\n",
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            string Describe(List<Method> set) => $"{set.Count:N0} ({set.Sum(m => m.Size) / 1048576.0:0.00} MiB of code)";
            output.WriteLine($"   methods called by both {Describe(both)}, by the server only {Describe(serverOnly)}, by the plugin only {Describe(pluginOnly)}; " +
                $"of {Describe([.. methods.Values])} in all");
            output.WriteLine($"   wrote {orderFile}: rebuild (make publish) and compare `make bench BENCH=aot` and `BENCH=kms` before committing it");
        }
        finally
        {
            work.Delete(true);
        }
    }

    private sealed record Method(IReadOnlyList<string> Names, long Size);

    /// <summary>Runs the server until ready, lets it idle, drives its plugin, and returns the first-call logs of both processes.</summary>
    private static async Task<(string Server, string Plugin)> ProfileAsync(string work, IReadOnlyDictionary<string, string> environment, TextWriter output)
    {
        var dataDir = Path.Combine(work, "server");
        var config = Path.Combine(work, "config.yaml");
        await File.WriteAllTextAsync(config, "# startup profile: everything comes from flags\n");
        var ip = IPAddress.Loopback;
        var server = SupervisorBenchmarks.StartServer(dataDir, config, ip, SupervisorBenchmarks.FreePort(ip), environment,
            [.. AotBenchmarks.EtcdOnlyServer, .. KmsBenchmarks.ServerArguments]);
        try
        {
            await WaitForReadyAsync(server);
            output.WriteLine($"   server ready (pid {server.Id}); idling {Idle.TotalSeconds:0} s, then {PluginRoundTrips:N0} KMS round trips");
            await Task.Delay(Idle);
            using var client = await KmsBenchmarks.WaitForPluginAsync(server, dataDir);
            var plugin = KmsBenchmarks.PluginPid(server.Id);
            await SupervisorBenchmarks.RunAsync(PluginRoundTrips, 4, KmsBenchmarks.EncryptDecrypt(client));
            // Read before stopping: the stop path is not start-up code.
            var log = environment["BWPROF_OUT"];
            return (await File.ReadAllTextAsync($"{log}.{server.Id}"), await File.ReadAllTextAsync($"{log}.{plugin}"));
        }
        finally
        {
            await SupervisorBenchmarks.StopAsync(server, dataDir);
        }
    }

    private static async Task WaitForReadyAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("[ready]", StringComparison.Ordinal))
            {
                // Keep draining, so that the server never blocks on a full pipe.
                _ = server.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return;
            }
        }
        throw new InvalidOperationException($"the server exited before it was ready: {await server.StandardError.ReadToEndAsync()}");
    }

    /// <summary>The methods a first-call log names, in the order they were first called.</summary>
    private static List<Method> Called(string log, IReadOnlyDictionary<ulong, Method> methods) =>
        [.. log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(o => methods[ulong.Parse(o, NumberStyles.HexNumber, CultureInfo.InvariantCulture)]).Distinct()];

    /// <summary>Every managed method (code symbols inside ILC's managed code sections), by offset, with its names and size.</summary>
    private static async Task<Dictionary<ulong, Method>> ManagedMethodsAsync(string binary, string symbols)
    {
        var sections = new List<(ulong Start, ulong End)>();
        foreach (var line in (await ProcessRunner.RunCheckedAsync(new ProcessSpec("readelf", ["-SW", binary]))).StandardOutput.Split('\n'))
        {
            // "  [17] __managedcode     PROGBITS        00000000001604c0 1604c0 d13bb2 00  AX  0   0 32"
            var fields = line[(line.IndexOf(']', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (line.Contains('[', StringComparison.Ordinal) && fields.Length > 4 && ManagedCodeSections.Contains(fields[0]))
            {
                var start = ulong.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                sections.Add((start, start + ulong.Parse(fields[4], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }
        }
        if (sections.Count != ManagedCodeSections.Length)
        {
            throw new InvalidOperationException($"{binary} has no {string.Join(" and ", ManagedCodeSections)} sections: not a Native AOT binary of this ILC?");
        }
        var names = new Dictionary<ulong, (List<string> Names, long Size)>();
        foreach (var line in (await ProcessRunner.RunCheckedAsync(new ProcessSpec("nm", ["--defined-only", "-S", symbols]))).StandardOutput.Split('\n'))
        {
            // "offset size t name" (size only where the symbol has one)
            var fields = line.Split(' ', 4);
            var (type, size, name) = fields.Length == 4 ? (fields[2], fields[1], fields[3]) : fields.Length == 3 ? (fields[1], "0", fields[2]) : ("", "", "");
            if (type is not ("t" or "T"))
            {
                continue;
            }
            var offset = ulong.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (sections.Any(s => offset >= s.Start && offset < s.End))
            {
                if (!names.TryGetValue(offset, out var method))
                {
                    method = (new List<string>(), 0L);
                }
                method.Names.Add(name);
                names[offset] = (method.Names, Math.Max(method.Size, long.Parse(size, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }
        }
        return names.ToDictionary(n => n.Key, n => new Method(n.Value.Names, n.Value.Size));
    }

    private static async Task<string> BuildIdAsync(string elf)
    {
        var notes = (await ProcessRunner.RunCheckedAsync(new ProcessSpec("readelf", ["-n", elf]))).StandardOutput;
        var at = notes.IndexOf("Build ID:", StringComparison.Ordinal);
        return at < 0 ? throw new InvalidOperationException($"{elf} has no build ID") : notes[(at + 9)..].Split('\n')[0].Trim();
    }
}
