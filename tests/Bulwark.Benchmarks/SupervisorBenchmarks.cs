using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.Crypto;
using Bulwark.Etcd;
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

    public static readonly Benchmark AgentJoins = new("supervisor", $"{Joins} agent joins against one server vs. {Joins} fresh-TLS GET /ping", async output =>
    {
        var root = Directory.CreateTempSubdirectory("bulwark-bench-supervisor-");
        var crypto = CryptoService.For(FipsMode.On);
        Microsoft.Extensions.Logging.ILoggerFactory loggers = NullLoggerFactory.Instance;
        var ip = IPAddress.Parse("127.0.0.8");
        var dataDir = Path.Combine(root.FullName, "server");
        EtcdMember? member = null;
        SupervisorServer? supervisor = null;
        EtcdClient? etcd = null;
        try
        {
            new ServerPki(crypto).Ensure(new ServerPkiOptions(dataDir, KeyAlgorithm.EcdsaP256, new NodeIdentity("bench-server", [ip]), [], ["10.43.0.0/16"], "cluster.local", null, null));
            var node = new EtcdNode(new EtcdPaths(dataDir), "bench-server", ip.ToString(), FreePort(IPAddress.Loopback), FreePort(ip), FreePort(IPAddress.Loopback));
            member = new EtcdMember(node.Prepare(ServerJoin.ListenOnAdvertised(node, node.SingleMemberConfig())), loggers.CreateLogger<EtcdMember>());
            await member.StartAsync(CancellationToken.None);
            etcd = new EtcdClient(new EtcdClientOptions([node.LocalClientUrl], node.Paths.ClientTls));
            var port = FreePort(ip);
            var agentConfig = new AgentClusterConfig
            {
                ClusterCidr = "10.42.0.0/16", ServiceCidr = "10.43.0.0/16", ClusterDns = "10.43.0.10", ClusterDomain = "cluster.local", Cni = "canal",
                ApiserverEndpoints = [$"https://{ip}:6443"],
            };
            supervisor = await SupervisorStartup.StartAsync(new SupervisorOptions(dataDir, ip, port, new NodeIdentity("bench-server", [ip]), [], agentConfig, false),
                crypto, etcd, loggers, CancellationToken.None);
            var token = File.ReadAllText(new ServerPkiPaths(dataDir).Token).Trim();
            var join = new AgentJoin(crypto, NullLogger.Instance);
            AgentJoinOptions Options(int i) => new(Path.Combine(root.FullName, "agents", i.ToString(CultureInfo.InvariantCulture)), supervisor.Url, token,
                $"bench-agent-{i}", [IPAddress.Loopback]) { ReadyTimeout = TimeSpan.FromSeconds(30) };

            // Warm up both paths (JIT, connection setup code), then measure.
            await RunAsync(20, Concurrency, i => join.ObtainAsync(Options(-1 - i), CancellationToken.None));
            await RunAsync(20, Concurrency, _ => PingAsync(supervisor.Url));

            var (pingTotal, _) = await RunAsync(Joins, Concurrency, _ => PingAsync(supervisor.Url));
            var rssBefore = Rss(Environment.ProcessId);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var etcdCpuBefore = CpuSeconds(member.Pid ?? 0);
            var (joinTotal, latencies) = await RunAsync(Joins, Concurrency, i => join.ObtainAsync(Options(i), CancellationToken.None));
            var rssAfter = Rss(Environment.ProcessId);
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            var etcdCpu = CpuSeconds(member.Pid ?? 0) - etcdCpuBefore;
            var signed = supervisor.Metrics.CertificatesSigned;
            latencies.Sort();
            double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
            output.WriteLine($"   {Joins} joins (concurrency {Concurrency}): {joinTotal:0.00} s total, {Joins / joinTotal:0} joins/s, p50 {P(0.50):0.0} ms, p99 {P(0.99):0.0} ms; " +
                $"{signed} certificates signed (goal: all {Joins} in <= 10 s: {(joinTotal <= 10 ? "met" : "NOT met")})");
            output.WriteLine($"   peer: {Joins} fresh-TLS GET /ping: {pingTotal:0.00} s; ratio join/ping {joinTotal / pingTotal:0.0}x (a join is 1 TLS connection, 5 requests, 3 key pairs and 3 certificates signed)");
            output.WriteLine($"   RSS: bench process (supervisor + {Concurrency} concurrent agent clients) {rssBefore / 1024.0:0} MiB before, {rssAfter / 1024.0:0} MiB after; " +
                $"etcd {Rss(member.Pid ?? 0) / 1024.0:0} MiB");
            output.WriteLine($"   CPU during the joins: bench process {cpu:0.0} s, etcd {etcdCpu:0.0} s (2 cores: {2 * joinTotal:0.0} core-seconds available)");
        }
        finally
        {
            if (supervisor is not null)
            {
                await supervisor.DisposeAsync();
            }
            etcd?.Dispose();
            if (member is not null)
            {
                await member.DisposeAsync();
            }
            root.Delete(true);
        }
    });

    private static async Task PingAsync(Uri server)
    {
        using var http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = TlsPolicy.BuiltIn.Apply(new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true }),
        });
        using var response = await http.GetAsync(new Uri(server, "/ping"));
        response.EnsureSuccessStatusCode();
    }

    private static async Task<(double Seconds, List<double> LatenciesMs)> RunAsync(int count, int concurrency, Func<int, Task> work)
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

    private static long Rss(int pid)
    {
        if (pid == 0 || !File.Exists($"/proc/{pid}/status"))
        {
            return 0;
        }
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static double CpuSeconds(int pid)
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

    private static int FreePort(IPAddress address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
