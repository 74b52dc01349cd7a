using System.Diagnostics;
using System.Globalization;
using Bulwark.Processes;
using Bulwark.Tests;

namespace Bulwark.Benchmarks;

/// <summary>
/// The shipped Native AOT binary (dist/bulwark, from `make publish`): wall time of `bulwark version` and of a full
/// `bulwark audit` of the node the real renderer writes, and the idle RSS of `bulwark server`. Peers run in the same go:
/// `etcdctl version` (a Go CLI), `find -printf` over the audited tree, and the etcd child of the same server.
/// Goals (issue 10): version ≤ 30 ms, audit ≤ 150 ms, idle server RSS ≤ 50 MiB.
/// </summary>
public static class AotBenchmarks
{
    private const int Rounds = 20;

    /// <summary>The published AOT binary; benchmarks of shipped figures refuse to measure anything else.</summary>
    public static string Binary
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "dist", "bulwark");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run `make publish` first (make bench does)");
        }
    }

    public static readonly Benchmark Cli = new("aot", "dist/bulwark (Native AOT): `version` and `audit` wall time, idle `server` RSS, vs. etcdctl, find and etcd", async output =>
    {
        var binary = Binary;
        output.WriteLine($"   binary: {binary}, {new FileInfo(binary).Length / 1048576.0:0.0} MiB");

        var version = await MedianMsAsync(binary, ["version"]);
        var etcdctl = await MedianMsAsync(ProgramLocator.Require("etcdctl", "Install etcd-client."), ["version"]);
        output.WriteLine($"   bulwark version: {version:0.0} ms median of {Rounds}; peer etcdctl version {etcdctl:0.0} ms; ratio {version / etcdctl:0.00}x " +
            $"(goal <= 30 ms: {(version <= 30 ? "met" : "NOT met")})");

        await using (var node = await RenderedNode.CreateAsync(startEtcd: true))
        {
            string[] audit = ["audit", .. node.AuditArgs];
            var auditMs = await MedianMsAsync(binary, audit, allowExitCodes: [0, 1]);
            var find = await MedianMsAsync(ProgramLocator.Require("find", "Install findutils."),
                [node.DataDir, node.EtcDir, "/proc/sys", "-printf", "%m %u %p\n"]);
            output.WriteLine($"   bulwark audit (CIS + STIG, whole CLI run): {auditMs:0.0} ms median; peer find -printf over the same tree {find:0.0} ms; ratio {auditMs / find:0.0}x " +
                $"(goal <= 150 ms: {(auditMs <= 150 ? "met" : "NOT met")})");
        }

        var (server, etcd) = await IdleServerRssAsync(binary);
        output.WriteLine($"   idle bulwark server RSS: {Mib(server.Rss)} MiB; peer: its etcd child {Mib(etcd)} MiB; ratio {(double)server.Rss / etcd:0.00}x " +
            $"(goal <= 50 MiB: {(server.Rss / 1024.0 <= 50 ? "met" : "NOT met")})");
        output.WriteLine($"   of which anonymous {Mib(server.Anonymous)} MiB, file-backed {Mib(server.FileBacked)} MiB (the binary's and OpenSSL's pages mapped during start); " +
            $"pages the idle server touched in {TouchWindow.TotalSeconds:0} s: {Mib(server.Touched)} MiB");
    });

    /// <summary>Median wall time of a whole program run (start to exit), after one warm-up run.</summary>
    private static async Task<double> MedianMsAsync(string program, string[] args, int[]? allowExitCodes = null)
    {
        var times = new List<double>();
        for (var i = 0; i <= Rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            var result = await ProcessRunner.RunAsync(new ProcessSpec(program, args) { Environment = new Dictionary<string, string?> { ["NO_COLOR"] = "1" } });
            watch.Stop();
            if (!(allowExitCodes ?? [0]).Contains(result.ExitCode))
            {
                throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
            }
            if (i > 0)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static readonly TimeSpan TouchWindow = TimeSpan.FromSeconds(10);

    /// <summary>The idle server measured here: etcd, the supervisor and the runtime, no control-plane components (not installable here).</summary>
    internal static readonly string[] EtcdOnlyServer = ["--disable-apiserver", "--disable-controller-manager", "--disable-scheduler"];

    /// <summary>An idle process's memory (KiB): resident, split by kind, and what it touched within <see cref="TouchWindow"/>.</summary>
    private sealed record IdleMemory(long Rss, long Anonymous, long FileBacked, long Touched);

    /// <summary>Starts `bulwark server` (etcd and supervisor only), waits until ready and 5 s more, and reads both processes' memory.</summary>
    private static async Task<(IdleMemory Server, long Etcd)> IdleServerRssAsync(string binary)
    {
        var data = Directory.CreateTempSubdirectory("bulwark-bench-idle-");
        using var process = new Process { StartInfo = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false } };
        try
        {
            var config = Path.Combine(data.FullName, "config.yaml");
            await File.WriteAllTextAsync(config, "# benchmark\n");
            var ports = FreePorts.Take(4);
            foreach (var a in (string[])
            [
                "server", "--config", config, "--data-dir", data.FullName, "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "bench-idle", "--bind-address", "127.0.0.1",
                "--supervisor-port", Str(ports[3]), "--etcd-client-port", Str(ports[0]), "--etcd-peer-port", Str(ports[1]), "--etcd-metrics-port", Str(ports[2]),
                "--etcd-disable-snapshots", .. EtcdOnlyServer,
            ])
            {
                process.StartInfo.ArgumentList.Add(a);
            }
            process.StartInfo.Environment["NO_COLOR"] = "1";
            var ready = new TaskCompletionSource();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("[ready]", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, _) => { };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            await Task.Delay(TimeSpan.FromSeconds(5));
            var etcdPid = int.Parse((await File.ReadAllTextAsync(Path.Combine(data.FullName, "server", "db", "etcd.pid"))).Trim(), CultureInfo.InvariantCulture);
            var memory = new IdleMemory(ProcMemory.StatusKiB(process.Id), ProcMemory.StatusKiB(process.Id, "RssAnon"), ProcMemory.StatusKiB(process.Id, "RssFile"),
                await ProcMemory.TouchedKiBAsync(process.Id, TouchWindow));
            return (memory, ProcMemory.StatusKiB(etcdPid));
        }
        finally
        {
            if (!process.HasExited)
            {
                Signals.Send(process.Id, Signals.SigTerm);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            data.Delete(true);
        }
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Mib(long kib) => (kib / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);

}
