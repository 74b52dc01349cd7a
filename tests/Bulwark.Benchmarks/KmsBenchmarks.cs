using System.Diagnostics;
using System.Net;
using Bulwark.FileSystem;
using Bulwark.Kms;
using Bulwark.Kms.V2;
using Google.Protobuf;

namespace Bulwark.Benchmarks;

/// <summary>
/// Encrypt+Decrypt round trips over the KMS plugin's unix socket, as kube-apiserver makes them (a 32-byte DEK seed),
/// against a real `bulwark server --secrets-encryption-provider kms` (file key protection: the figure is the plugin's,
/// not a TPM's), whose plugin is its own process (`bulwark kms-plugin`): its RSS and CPU are measured alone. There is no
/// peer program here (no other KMS v2 plugin is installable): the figures are absolute and read against the issue's goals.
/// </summary>
public static class KmsBenchmarks
{
    private const int RoundTrips = 100_000;
    // kube-apiserver calls the plugin from a few goroutines at a time (DEK generation is cached): modest concurrency.
    private const int Concurrency = 4;

    /// <summary>A server whose KMS plugin protects its key with a file (the figure is the plugin's, not a TPM's).</summary>
    internal static readonly string[] ServerArguments = ["--secrets-encryption-provider", "kms", "--secrets-encryption-key-protection", "file"];

    public static readonly Benchmark RoundTrip = new("kms", $"{RoundTrips:N0} KMS v2 Encrypt+Decrypt round trips over the plugin's unix socket (no peer: absolute figures)", async output =>
    {
        var root = Directory.CreateTempSubdirectory("bulwark-bench-kms-");
        var dataDir = Path.Combine(root.FullName, "server");
        var ip = IPAddress.Loopback;
        Process? server = null;
        try
        {
            var config = Path.Combine(root.FullName, "config.yaml");
            await File.WriteAllTextAsync(config, "# empty: everything comes from flags\n");
            server = SupervisorBenchmarks.StartServer(dataDir, config, ip, SupervisorBenchmarks.FreePort(ip), ServerArguments);
            using var client = await WaitForPluginAsync(server, dataDir);
            var roundTrip = EncryptDecrypt(client);
            var plugin = PluginPid(server.Id);
            await SupervisorBenchmarks.RunAsync(2_000, Concurrency, roundTrip);
            var rssBefore = ProcMemory.StatusKiB(plugin);
            var cpu = SupervisorBenchmarks.CpuSeconds(plugin);
            var (total, latencies) = await SupervisorBenchmarks.RunAsync(RoundTrips, Concurrency, roundTrip);
            cpu = SupervisorBenchmarks.CpuSeconds(plugin) - cpu;
            var rssAfter = ProcMemory.StatusKiB(plugin);
            var serverRss = ProcMemory.StatusKiB(server.Id);
            latencies.Sort();
            double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
            var rate = RoundTrips / total;
            output.WriteLine($"   {RoundTrips:N0} round trips (concurrency {Concurrency}): {total:0.00} s, {rate:0} round trips/s, p50 {P(0.50):0.00} ms, p99 {P(0.99):0.00} ms " +
                $"(goal >= 5,000/s with p99 <= 2 ms: {(rate >= 5000 && P(0.99) <= 2 ? "met" : "NOT met")})");
            output.WriteLine($"   plugin process (bulwark kms-plugin, pid {plugin}) RSS: {rssBefore / 1024.0:0.0} MiB after warm-up, {rssAfter / 1024.0:0.0} MiB after {RoundTrips:N0} round trips " +
                $"(goal <= 40 MiB: {(rssAfter <= 40 * 1024 ? "met" : "NOT met")}); plugin CPU {cpu:0.0} s; the bulwark server beside it: {serverRss / 1024.0:0} MiB");
            output.WriteLine("   peer: none (no other KMS v2 plugin is installable here); the client runs in this process on the same 2 shared cores");
        }
        finally
        {
            if (server is not null)
            {
                await SupervisorBenchmarks.StopAsync(server, dataDir);
            }
            root.Delete(true);
        }
    });

    /// <summary>A client of the server's plugin once its Status answers healthy (within a minute, while the server runs).</summary>
    internal static async Task<KmsClient> WaitForPluginAsync(Process server, string dataDir)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var client = new KmsClient(new NodeLayout(dataDir).KmsSocket);
        try
        {
            while (true)
            {
                try
                {
                    if ((await client.StatusAsync(CancellationToken.None)).Healthz == "ok")
                    {
                        return client;
                    }
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline && !server.HasExited)
                {
                }
                await Task.Delay(100);
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>One Encrypt+Decrypt round trip of a 32-byte DEK seed, as kube-apiserver makes them; fails if other bytes come back.</summary>
    internal static Func<int, Task> EncryptDecrypt(KmsClient client)
    {
        var seed = new byte[32];
        Random.Shared.NextBytes(seed);
        var plaintext = ByteString.CopyFrom(seed);
        return async _ =>
        {
            var sealedData = await client.Api.EncryptAsync(new EncryptRequest { Plaintext = plaintext, Uid = "bench" });
            var request = new DecryptRequest { Ciphertext = sealedData.Ciphertext, KeyId = sealedData.KeyId, Uid = "bench" };
            request.Annotations.Add(sealedData.Annotations);
            var opened = await client.Api.DecryptAsync(request);
            if (!opened.Plaintext.Span.SequenceEqual(seed))
            {
                throw new InvalidOperationException("a round trip returned other bytes");
            }
        };
    }

    /// <summary>The server's child running <c>bulwark kms-plugin</c> (found through /proc: parent pid and argv).</summary>
    internal static int PluginPid(int serverPid)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid) || !File.Exists(Path.Combine(folder, "stat")))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (parent == serverPid && File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0').Contains(KmsPluginProcess.Command))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // The process ended while it was read.
            }
        }
        throw new InvalidOperationException($"bulwark server (pid {serverPid}) runs no kms-plugin child");
    }
}
