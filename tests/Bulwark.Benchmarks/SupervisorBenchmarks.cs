using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Benchmarks;

/// <summary>
/// 1,200 agent joins (the scale K3s documents for an HA control plane) served by one server: a real etcd process and
/// the supervisor on 127.0.0.8, the agents' join protocol (CA pinning, config, three locally generated keys and CSRs)
/// from this process with bounded concurrency. The peer is the same number of fresh TLS connections doing GET /ping.
/// </summary>
public static class SupervisorBenchmarks
{
    private const int Joins = 1200;
    private const int Concurrency = 32;

    public static readonly Benchmark AgentJoins = new("supervisor", $"{Joins} agent joins against one `bulwark server` process vs. {Joins} fresh-TLS GET /ping", async output =>
    {
        var root = Directory.CreateTempSubdirectory("bulwark-bench-supervisor-");
        var crypto = CryptoService.For(FipsMode.On);
        var ip = IPAddress.Parse("127.0.0.8");
        var dataDir = Path.Combine(root.FullName, "server");
        Process? server = null;
        try
        {
            new ServerPki(crypto).Ensure(new ServerPkiOptions(dataDir, KeyAlgorithm.EcdsaP256, new NodeIdentity("bench-server", [ip]), [], ["10.43.0.0/16"], "cluster.local", null, null));
            var config = Path.Combine(root.FullName, "config.yaml");
            await File.WriteAllTextAsync(config, "# empty: everything comes from flags\n");
            var port = FreePort(ip);
            server = StartServer(dataDir, config, ip, port);
            var lines = new List<string>();
            var ready = new TaskCompletionSource();
            server.OutputDataReceived += (_, e) =>
            {
                lock (lines)
                {
                    if (e.Data is { } line)
                    {
                        lines.Add(line);
                        if (line.StartsWith("[ready]", StringComparison.Ordinal))
                        {
                            ready.TrySetResult();
                        }
                    }
                }
            };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            if (await Task.WhenAny(ready.Task, server.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(1))) != ready.Task)
            {
                throw new InvalidOperationException("bulwark server did not get ready:\n" + string.Join('\n', lines));
            }
            var etcdPid = int.Parse(File.ReadAllText(Path.Combine(dataDir, "server", "db", "etcd.pid")).Trim(), CultureInfo.InvariantCulture);
            var url = new Uri($"https://{ip}:{port}");
            var token = File.ReadAllText(new ServerPkiPaths(dataDir).Token).Trim();
            var join = new AgentJoin(crypto, NullLogger.Instance);
            AgentJoinOptions Options(int i) => new(Path.Combine(root.FullName, "agents", i.ToString(CultureInfo.InvariantCulture)), url, token,
                $"bench-agent-{i}", [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(30) };

            // Warm up both paths (JIT on both sides, connection setup code), then measure.
            await RunAsync(20, Concurrency, i => join.ObtainAsync(Options(-1 - i), CancellationToken.None));
            await RunAsync(20, Concurrency, _ => PingAsync(url));

            var (pingTotal, _) = await RunAsync(Joins, Concurrency, _ => PingAsync(url));
            var rssBefore = ProcMemory.StatusKiB(server.Id);
            var serverCpu = CpuSeconds(server.Id);
            var etcdCpu = CpuSeconds(etcdPid);
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var (joinTotal, latencies) = await RunAsync(Joins, Concurrency, i => join.ObtainAsync(Options(i), CancellationToken.None));
            serverCpu = CpuSeconds(server.Id) - serverCpu;
            etcdCpu = CpuSeconds(etcdPid) - etcdCpu;
            var clientSeconds = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds;
            var rssAfter = ProcMemory.StatusKiB(server.Id);
            latencies.Sort();
            double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
            output.WriteLine($"   {Joins} joins (concurrency {Concurrency}): {joinTotal:0.00} s total, {Joins / joinTotal:0} joins/s, p50 {P(0.50):0.0} ms, p99 {P(0.99):0.0} ms " +
                $"(goal: all {Joins} in <= 10 s with p99 <= 500 ms: {(joinTotal <= 10 && P(0.99) <= 500 ? "met" : "NOT met")})");
            output.WriteLine($"   peer: {Joins} fresh-TLS GET /ping: {pingTotal:0.00} s; ratio join/ping {joinTotal / pingTotal:0.0}x (a join is 1 TLS connection, 5 requests, 3 key pairs and 3 certificates signed)");
            output.WriteLine($"   server RSS: bulwark server {rssBefore / 1024.0:0} MiB before, {rssAfter / 1024.0:0} MiB after; etcd {ProcMemory.StatusKiB(etcdPid) / 1024.0:0} MiB");
            output.WriteLine($"   CPU during the joins: bulwark server {serverCpu:0.0} s, etcd {etcdCpu:0.0} s, the {Concurrency} agent clients {clientSeconds:0.0} s " +
                $"(this 2-core machine had {2 * joinTotal:0.0} core-seconds; load average before the run {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        }
        finally
        {
            if (server is not null)
            {
                await StopAsync(server, dataDir);
            }
            root.Delete(true);
        }
    });

    internal static Process StartServer(string dataDir, string config, IPAddress ip, int port, params string[] extra) =>
        StartServer(dataDir, config, ip, port, new Dictionary<string, string>(), extra);

    internal static Process StartServer(string dataDir, string config, IPAddress ip, int port, IReadOnlyDictionary<string, string> environment, params string[] extra)
    {
        // The shipped binary: the Native AOT one `make publish` builds.
        var binary = AotBenchmarks.Binary;
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "server", "--config", config, "--data-dir", dataDir, "--node-name", "bench-server", "--node-ip", ip.ToString(), "--single-host-demo", "--bind-address", ip.ToString(),
            "--supervisor-port", port.ToString(CultureInfo.InvariantCulture), "--etcd-client-port", FreePort(IPAddress.Loopback).ToString(CultureInfo.InvariantCulture),
            "--etcd-peer-port", FreePort(ip).ToString(CultureInfo.InvariantCulture), "--etcd-metrics-port", FreePort(IPAddress.Loopback).ToString(CultureInfo.InvariantCulture),
            "--etcd-disable-snapshots",
        }.Concat(extra))
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"cannot start {binary}");
    }

    internal static async Task StopAsync(Process server, string dataDir)
    {
        var pidFile = Path.Combine(dataDir, "server", "db", "etcd.pid");
        var etcdPid = File.Exists(pidFile) ? int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture) : 0;
        if (!server.HasExited)
        {
            Processes.Signals.Send(server.Id, Processes.Signals.SigTerm);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await server.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                server.Kill(entireProcessTree: true);
            }
        }
        if (etcdPid > 0 && Processes.Signals.IsAlive(etcdPid) && File.Exists($"/proc/{etcdPid}/cmdline")
            && File.ReadAllText($"/proc/{etcdPid}/cmdline").Contains("etcd", StringComparison.Ordinal))
        {
            Processes.Signals.Send(etcdPid, Processes.Signals.SigKill);
        }
        server.Dispose();
    }

    private static async Task PingAsync(Uri server)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = TlsPolicy.BuiltIn.Apply(new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true }),
        });
        using var response = await http.GetAsync(new Uri(server, "/ping"));
        response.EnsureSuccessStatusCode();
    }

    internal static async Task<(double Seconds, List<double> LatenciesMs)> RunAsync(int count, int concurrency, Func<int, Task> work)
    {
        var latencies = new double[count];
        var next = -1;
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                await work(i);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }));
        await Task.WhenAll(workers);
        return (watch.Elapsed.TotalSeconds, latencies.ToList());
    }

    internal static double CpuSeconds(int pid)
    {
        if (pid == 0 || !File.Exists($"/proc/{pid}/stat"))
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 (1-based) of /proc/PID/stat, in clock ticks (100 per second on Linux).
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    internal static int FreePort(IPAddress address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
