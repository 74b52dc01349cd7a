using System.Diagnostics;
using System.Globalization;
using Bulwark.Etcd;
using Bulwark.Processes;
using Bulwark.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Benchmarks;

/// <summary>
/// etcd figures, each against a peer measured in the same run: server cold start vs bare etcd, snapshot save and restore
/// vs etcdctl on a ~256 MB database, and the supervisor's idle memory vs etcd's.
/// </summary>
public static class EtcdBenchmarks
{
    // etcd's first election under the hardened timings (heartbeat 500 ms, election timeout 5 s) comes after a random
    // 0.5-5.5 s, for bare etcd and the server's etcd alike: a median of 3 swung the ratio between 1.2x and 4x.
    private const int Rounds = 9;

    public static readonly Benchmark ServerStart = new("server-start",
        "bulwark server cold start to ready (fresh data dir: self-tests, PKI and token included) vs bare etcd to healthy, and idle RSS",
        async output =>
        {
            var pki = Directory.CreateTempSubdirectory("bulwark-bench-pki-");
            try
            {
                await OpenSslEtcdCerts.CreateAsync(pki.FullName, CancellationToken.None);
                var server = new List<double>();
                var own = new List<double>();
                var bare = new List<double>();
                (long Bulwark, long Etcd)? rss = null;
                for (var i = 0; i < Rounds; i++)
                {
                    var (seconds, etcdStart, memory) = await ServerColdStartAsync(measureRss: i == 0);
                    server.Add(seconds);
                    own.Add(seconds - etcdStart);
                    rss ??= memory;
                    bare.Add(await BareEtcdStartAsync(pki.FullName));
                }
                var s = Median(server);
                var b = Median(bare);
                output.WriteLine($"   server cold start to ready: {s * 1000:0} ms; bare etcd to healthy: {b * 1000:0} ms; ratio {s / b:0.00}x (goal <= 1.3x; median of {Rounds})");
                output.WriteLine($"   of the server's start, Bulwark's own stages (all but starting its etcd to healthy): {Median(own) * 1000:0} ms median");
                if (rss is { } r)
                {
                    output.WriteLine($"   idle RSS: bulwark {r.Bulwark / 1024.0:0.0} MiB; its etcd {r.Etcd / 1024.0:0.0} MiB; ratio {(double)r.Bulwark / r.Etcd:0.00}x");
                }
            }
            finally
            {
                pki.Delete(true);
            }
        });

    public static readonly Benchmark Snapshot = new("snapshot",
        "snapshot save (native gRPC stream) and verified restore of a ~256 MB etcd database vs etcdctl snapshot save/restore",
        async output =>
        {
            var dir = Directory.CreateTempSubdirectory("bulwark-bench-snap-");
            try
            {
                await OpenSslEtcdCerts.CreateAsync(dir.FullName, CancellationToken.None);
                var ports = FreePorts.Take(3);
                var node = new EtcdNode(new EtcdPaths(dir.FullName), "bench", "127.0.0.1", ports[0], ports[1], ports[2]);
                await using var member = new EtcdMember(node.Prepare(node.SingleMemberConfig()), NullLogger.Instance);
                await member.StartAsync(CancellationToken.None);
                using var client = new EtcdClient(node.ClientOptions());
                await FillAsync(client, 256);
                var status = await client.StatusAsync();
                output.WriteLine($"   database: {status.DbSize / 1048576.0:0} MiB");

                var store = new SnapshotStore(Path.Combine(dir.FullName, "snaps"));
                var etcdctlFile = Path.Combine(dir.FullName, "etcdctl.db");
                var tls = node.Paths;
                string[] etcdctlSave = ["--endpoints", node.LocalClientUrl.ToString(), "--cacert", tls.ServerCaCert, "--cert", tls.ClientCert, "--key", tls.ClientKey, "snapshot", "save", etcdctlFile];
                var ours = new List<double>();
                var theirs = new List<double>();
                SnapshotMetadata? saved = null;
                for (var i = 0; i < Rounds; i++)
                {
                    foreach (var old in store.List())
                    {
                        store.Delete(old.Name);
                    }
                    var watch = Stopwatch.StartNew();
                    saved = await store.SaveAsync(client, new SnapshotRequest($"bench{i}", "bench", SnapshotMetadata.OnDemandKind, false, "", "bench"), CancellationToken.None);
                    ours.Add(watch.Elapsed.TotalSeconds);
                    File.Delete(etcdctlFile);
                    watch.Restart();
                    await ProcessRunner.RunCheckedAsync(new ProcessSpec("etcdctl", etcdctlSave) { Timeout = TimeSpan.FromMinutes(10) });
                    theirs.Add(watch.Elapsed.TotalSeconds);
                }
                var mib = saved!.Size / 1048576.0;
                output.WriteLine($"   save: bulwark {mib / Median(ours):0} MiB/s ({Median(ours) * 1000:0} ms); etcdctl {mib / Median(theirs):0} MiB/s ({Median(theirs) * 1000:0} ms); throughput ratio {Median(theirs) / Median(ours):0.00}x (goal >= 1.0x)");

                // Restore: Bulwark verifies the checksums first, then restores; etcdctl restores (it checks the trailer itself).
                var snapshotPath = Path.Combine(store.Directory, saved.File);
                ours.Clear();
                theirs.Clear();
                for (var i = 0; i < Rounds; i++)
                {
                    var target = Path.Combine(dir.FullName, $"restore-ours-{i}");
                    var watch = Stopwatch.StartNew();
                    var problem = await SnapshotVerifier.ProblemAsync(snapshotPath, saved, CancellationToken.None);
                    if (problem is not null)
                    {
                        throw new InvalidOperationException(problem);
                    }
                    await ProcessRunner.RunCheckedAsync(new ProcessSpec("etcdctl", ["snapshot", "restore", snapshotPath, "--data-dir", target]) { Timeout = TimeSpan.FromMinutes(10) });
                    ours.Add(watch.Elapsed.TotalSeconds);
                    var peer = Path.Combine(dir.FullName, $"restore-etcdctl-{i}");
                    watch.Restart();
                    await ProcessRunner.RunCheckedAsync(new ProcessSpec("etcdctl", ["snapshot", "restore", etcdctlFile, "--data-dir", peer]) { Timeout = TimeSpan.FromMinutes(10) });
                    theirs.Add(watch.Elapsed.TotalSeconds);
                    Directory.Delete(target, true);
                    Directory.Delete(peer, true);
                }
                output.WriteLine($"   restore: bulwark (verify + restore) {mib / Median(ours):0} MiB/s ({Median(ours) * 1000:0} ms); etcdctl {mib / Median(theirs):0} MiB/s ({Median(theirs) * 1000:0} ms); throughput ratio {Median(theirs) / Median(ours):0.00}x (goal >= 0.9x)");
                await member.StopAsync();
            }
            finally
            {
                dir.Delete(true);
            }
        });

    private static async Task FillAsync(EtcdClient client, int mebibytes)
    {
        var value = new byte[1 << 20];
        Random.Shared.NextBytes(value); // incompressible, like real data
        await Parallel.ForEachAsync(Enumerable.Range(0, mebibytes), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            await client.Api.PutAsync(new Etcdserverpb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8($"/bench/{i:D5}"), Value = Google.Protobuf.ByteString.CopyFrom(value) }, cancellationToken: ct));
    }

    /// <summary>Seconds to ready, and of them the seconds from "[etcd] starting" to "[etcd] healthy".</summary>
    private static async Task<(double Seconds, double EtcdStart, (long, long)? Rss)> ServerColdStartAsync(bool measureRss)
    {
        var data = Directory.CreateTempSubdirectory("bulwark-bench-server-");
        try
        {
            var config = Path.Combine(data.FullName, "config.yaml");
            await File.WriteAllTextAsync(config, "# benchmark\n");
            var ports = FreePorts.Take(3);
            // The shipped binary, as users start it (the JIT build starts ~4x slower and is not what ships).
            var info = new ProcessStartInfo(AotBenchmarks.Binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                "server", "--config", config, "--data-dir", data.FullName, "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", "bench",
                "--etcd-client-port", ports[0].ToString(CultureInfo.InvariantCulture), "--etcd-peer-port", ports[1].ToString(CultureInfo.InvariantCulture),
                "--etcd-metrics-port", ports[2].ToString(CultureInfo.InvariantCulture), "--disable-apiserver", "--disable-controller-manager", "--disable-scheduler",
            })
            {
                info.ArgumentList.Add(a);
            }
            var ready = new TaskCompletionSource();
            var watch = Stopwatch.StartNew();
            var (etcdStarting, etcdHealthy) = (0.0, 0.0);
            using var process = Process.Start(info)!;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("[etcd] starting", StringComparison.Ordinal) == true)
                {
                    etcdStarting = watch.Elapsed.TotalSeconds;
                }
                else if (e.Data?.StartsWith("[etcd] healthy", StringComparison.Ordinal) == true)
                {
                    etcdHealthy = watch.Elapsed.TotalSeconds;
                }
                else if (e.Data?.StartsWith("[ready]", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(2));
            var seconds = watch.Elapsed.TotalSeconds;
            (long, long)? rss = null;
            if (measureRss)
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                var etcdPid = int.Parse((await File.ReadAllTextAsync(new EtcdPaths(data.FullName).PidFile)).Trim(), CultureInfo.InvariantCulture);
                rss = (ProcMemory.StatusKiB(process.Id), ProcMemory.StatusKiB(etcdPid));
            }
            Signals.Send(process.Id, Signals.SigTerm);
            await process.WaitForExitAsync();
            return (seconds, etcdHealthy - etcdStarting, rss);
        }
        finally
        {
            data.Delete(true);
        }
    }

    private static async Task<double> BareEtcdStartAsync(string pki)
    {
        var data = Directory.CreateTempSubdirectory("bulwark-bench-etcd-");
        try
        {
            OpenSslEtcdCerts.CopyTo(pki, data.FullName);
            var ports = FreePorts.Take(3);
            var node = new EtcdNode(new EtcdPaths(data.FullName), "bare", "127.0.0.1", ports[0], ports[1], ports[2]);
            var spec = node.Prepare(node.SingleMemberConfig());
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var info = new ProcessStartInfo("etcd") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in spec.Config.ToArgs())
            {
                info.ArgumentList.Add(arg);
            }
            var watch = Stopwatch.StartNew();
            using var etcd = Process.Start(info)!;
            etcd.BeginErrorReadLine();
            etcd.BeginOutputReadLine();
            try
            {
                while (true)
                {
                    try
                    {
                        var body = await http.GetStringAsync(spec.Config.HealthUrl);
                        if (body.Contains("\"true\"", StringComparison.Ordinal))
                        {
                            break;
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }
                    catch (TaskCanceledException)
                    {
                    }
                    await Task.Delay(20);
                }
                return watch.Elapsed.TotalSeconds;
            }
            finally
            {
                Signals.Send(etcd.Id, Signals.SigTerm);
                await etcd.WaitForExitAsync();
            }
        }
        finally
        {
            data.Delete(true);
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
