using System.Diagnostics;
using Bulwark.Config;
using Bulwark.ControlPlane;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Etcd;

/// <summary>Real etcd 3.4 started from the arguments of the etcd static pod Bulwark renders (real PKI, real renderer).</summary>
public sealed class EtcdStaticPodTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-etcd-pod");

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_node_ip_127_0_0_1_the_etcd_pod_lists_each_listen_url_once_and_real_etcd_starts_from_its_arguments()
    {
        var ports = FreePorts.Take(3);
        var configFile = _dir.Write("etc/config.yaml", $"data-dir: {_dir.Combine("data")}\nnode-name: pod-test\nnode-ip: 127.0.0.1\nsingle-host-demo: true\n" +
            $"etcd-client-port: {ports[0]}\netcd-peer-port: {ports[1]}\netcd-metrics-port: {ports[2]}\n");
        var load = ConfigLoader.Load(new ConfigRequest(ConfigRole.Server, configFile, new Dictionary<string, string>(), []));
        var config = load.Config ?? throw new InvalidOperationException(string.Join("\n", load.Errors));
        new ServerPki(CryptoStartup.Start(config).Service).Ensure(config);
        var result = await new ControlPlaneRenderer().RenderAsync(config, ControlPlaneRenderer.EtcDirectory(config), Ct);
        var manifest = result.Paths.PodManifest("etcd");
        var pod = StaticPod.Parse(await File.ReadAllTextAsync(manifest, Ct), manifest);

        string Arg(string name) => pod.Args.Single(a => a.StartsWith($"--{name}=", StringComparison.Ordinal))[(name.Length + 3)..];
        Assert.Equal($"https://127.0.0.1:{ports[0]}", Arg("listen-client-urls"));
        Assert.Equal($"https://127.0.0.1:{ports[1]}", Arg("listen-peer-urls"));

        // The pod describes a member of an existing cluster and carries no --initial-cluster: a fresh single member needs it.
        var psi = new ProcessStartInfo("etcd") { RedirectStandardError = true };
        foreach (var arg in pod.Args.Append($"--initial-cluster={Arg("name")}={Arg("initial-advertise-peer-urls")}"))
        {
            psi.ArgumentList.Add(arg);
        }
        using var etcd = Process.Start(psi)!;
        var stderr = etcd.StandardError.ReadToEndAsync(Ct);
        try
        {
            using var http = new HttpClient();
            var healthy = false;
            for (var i = 0; i < 150 && !healthy && !etcd.HasExited; i++)
            {
                try
                {
                    healthy = (await http.GetStringAsync($"http://127.0.0.1:{ports[2]}/health", Ct)).Contains("\"health\":\"true\"", StringComparison.Ordinal);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200, Ct);
                }
            }
            Assert.True(healthy, $"etcd did not become healthy from the pod's arguments; exited: {etcd.HasExited}");
        }
        finally
        {
            etcd.Kill(entireProcessTree: true);
            await etcd.WaitForExitAsync(Ct);
        }
        Assert.DoesNotContain("address already in use", await stderr, StringComparison.Ordinal);
    }
}
