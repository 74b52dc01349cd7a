using System.Diagnostics;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Runtime.Cri;
using Grpc.Core;

namespace Bulwark.Runtime;

/// <summary>
/// <c>bulwark node check</c>: proves the node runs a pod through CRI with its CNI configuration. A pod sandbox from the
/// pause image gets an address from the pod CIDR; a container from the node check's own busybox image serves HTTP on a
/// hostPort and calls back to the host; then sandbox, container and address are removed. Each step is timed; the first
/// failure names its fix.
/// </summary>
public sealed class NodeCheck(CriClient cri, ContainerdSettings settings, string? nodeIp = null)
{
    private const int ContainerPort = 8080;
    private readonly List<NodeCheckStep> _steps = [];

    /// <summary>The check's own image, built from the host's static busybox and imported when missing.</summary>
    public const string CheckImageRepository = "bulwark.local/node-check";

    public async Task<NodeCheckReport> RunAsync(Action<NodeCheckStep>? onStep = null, CancellationToken cancellationToken = default)
    {
        var paths = settings.Paths;
        var network = CheckNetwork.For(paths, settings.ClusterCidr);
        var ownNetworkFile = Path.Combine(settings.CniConfDir, network.FileName);
        var usedOwnNetwork = false;
        string? sandboxId = null;
        string? containerId = null;
        PodSandboxConfig? sandboxConfig = null;
        TcpListener? listener = null;
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            if (!await Step("runtime", onStep, async () =>
                {
                    var version = await cri.VersionAsync(cancellationToken).ConfigureAwait(false);
                    var conditions = await cri.StatusAsync(cancellationToken).ConfigureAwait(false);
                    return conditions.Any(c => c.Type == "RuntimeReady" && c.Status)
                        ? Pass($"{version} RuntimeReady at {cri.SocketPath}")
                        : Fail("containerd answers but is not RuntimeReady", "see " + paths.LogFile);
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            var confFiles = Directory.Exists(settings.CniConfDir)
                ? Directory.EnumerateFiles(settings.CniConfDir).Where(f => f.EndsWith(".conf", StringComparison.Ordinal) || f.EndsWith(".conflist", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
                    .Where(f => Path.GetFileName(f) != network.FileName).Order(StringComparer.Ordinal).ToList()
                : [];
            usedOwnNetwork = confFiles.Count == 0;
            if (!await Step("cni plugins", onStep, () => Task.FromResult(CheckPlugins(usedOwnNetwork ? CheckNetwork.Plugins : PluginsOf(confFiles[0]))))
                .ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            if (!await Step("network", onStep, async () =>
                {
                    if (usedOwnNetwork)
                    {
                        Directory.CreateDirectory(settings.CniConfDir);
                        AtomicFile.WriteAllText(ownNetworkFile, network.Render(), AtomicFile.Private);
                    }
                    var watch = Stopwatch.StartNew();
                    while (true)
                    {
                        var conditions = await cri.StatusAsync(cancellationToken).ConfigureAwait(false);
                        if (conditions.Any(c => c.Type == "NetworkReady" && c.Status))
                        {
                            return Pass(usedOwnNetwork
                                ? $"no CNI configuration in {settings.CniConfDir}: using the check's own bridge network {network.Bridge} ({network.Subnet}), labelled {CheckNetwork.Label}, removed afterwards"
                                : $"NetworkReady with {Path.GetFileName(confFiles[0])}");
                        }
                        if (watch.Elapsed > TimeSpan.FromSeconds(10))
                        {
                            var why = conditions.FirstOrDefault(c => c.Type == "NetworkReady");
                            return Fail($"containerd's CRI reports NetworkReady=false: {why?.Reason} {why?.Message}".Trim(),
                                $"check the CNI configuration in {settings.CniConfDir} and the plugins in {settings.CniBinDir}");
                        }
                        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                    }
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            if (!await Step("pause image", onStep, async () =>
                    await cri.ImageIdAsync(settings.SandboxImage, cancellationToken).ConfigureAwait(false) is { } id
                        ? Pass($"{settings.SandboxImage} ({id[..Math.Min(19, id.Length)]})")
                        : Fail($"the sandbox image {settings.SandboxImage} is not on the node, and nothing may be pulled here",
                            $"put an archive holding {settings.SandboxImage} in {paths.ImagesDir} (it is imported at start), or make it reachable through registries.yaml; pause-image and system-default-registry choose the name"))
                .ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            string checkImage = "";
            if (!await Step("check image", onStep, async () =>
                {
                    var busybox = Processes.ProgramLocator.Find("busybox");
                    if (busybox is null)
                    {
                        return Fail("the check's container image is built from the host's static busybox, which is not installed", "apt-get install busybox-static");
                    }
                    var tag = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(busybox, cancellationToken).ConfigureAwait(false)))[..12];
                    checkImage = $"{CheckImageRepository}:{tag}";
                    if (await cri.ImageIdAsync(checkImage, cancellationToken).ConfigureAwait(false) is not null)
                    {
                        return Pass($"{checkImage} already on the node");
                    }
                    using var archive = new MemoryStream();
                    ImageArchiveBuilder.Write(archive, checkImage, ImageArchiveBuilder.BusyboxFiles(busybox), ["/bin/busybox"], ImageArchiveFormat.Oci);
                    archive.Position = 0;
                    await new ImageImporter(cri.SocketPath).ImportAsync(archive, "node-check image", cancellationToken: cancellationToken).ConfigureAwait(false);
                    return Pass($"{checkImage} built from {busybox} and imported");
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            var hostIp = HostAddress(nodeIp);
            var hostPort = FreePort();
            var uid = Guid.NewGuid().ToString("N");
            if (!await Step("pod sandbox", onStep, async () =>
                {
                    var logDir = Path.Combine(paths.PodLogDir, uid);
                    Directory.CreateDirectory(logDir, AtomicFile.PrivateDirectory);
                    sandboxConfig = new PodSandboxConfig
                    {
                        Metadata = new PodSandboxMetadata { Name = CheckNetwork.Label, Namespace = "bulwark-system", Uid = uid },
                        Hostname = CheckNetwork.Label,
                        LogDirectory = logDir,
                        PortMappings = { new PortMapping { Protocol = Protocol.Tcp, ContainerPort = ContainerPort, HostPort = hostPort } },
                        Labels = { ["app.kubernetes.io/managed-by"] = "bulwark-node-check" },
                        Linux = new LinuxPodSandboxConfig(),
                    };
                    sandboxId = (await cri.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = sandboxConfig },
                        deadline: CriClient.Deadline(60), cancellationToken: cancellationToken).ConfigureAwait(false)).PodSandboxId;
                    var status = await cri.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = sandboxId },
                        deadline: CriClient.Deadline(10), cancellationToken: cancellationToken).ConfigureAwait(false);
                    var ip = status.Status?.Network?.Ip ?? "";
                    var podCidr = IPNetwork.Parse(settings.ClusterCidr);
                    return IPAddress.TryParse(ip, out var address) && podCidr.Contains(address)
                        ? Pass($"{sandboxId[..12]} ready, pod IP {ip} in {settings.ClusterCidr}")
                        : Fail($"the pod got address \"{ip}\", outside the pod CIDR {settings.ClusterCidr}", "the CNI configuration's IPAM must allocate from cluster-cidr");
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            listener = new TcpListener(IPAddress.Any, 0);
            listener.Start();
            var callbackPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            var accepted = AcceptTokenAsync(listener, cancellationToken);
            if (!await Step("container", onStep, async () =>
                {
                    var script = $"mkdir -p /www && echo {token} > /www/index.html && (echo {token} | busybox nc -w 5 {hostIp} {callbackPort}; true) && exec busybox httpd -f -p {ContainerPort} -h /www";
                    containerId = (await cri.Runtime.CreateContainerAsync(new CreateContainerRequest
                    {
                        PodSandboxId = sandboxId,
                        SandboxConfig = sandboxConfig,
                        Config = new ContainerConfig
                        {
                            Metadata = new ContainerMetadata { Name = "check" },
                            Image = new ImageSpec { Image = checkImage },
                            Command = { "/bin/busybox", "sh", "-c", script },
                            LogPath = "check.log",
                        },
                    }, deadline: CriClient.Deadline(60), cancellationToken: cancellationToken).ConfigureAwait(false)).ContainerId;
                    await cri.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId },
                        deadline: CriClient.Deadline(60), cancellationToken: cancellationToken).ConfigureAwait(false);
                    return Pass($"{containerId[..12]} running {checkImage}");
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            if (!await Step("container → host", onStep, async () =>
                {
                    var winner = await Task.WhenAny(accepted, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)).ConfigureAwait(false);
                    return winner == accepted && await accepted.ConfigureAwait(false) == token
                        ? Pass($"the container reached {hostIp}:{callbackPort} on the host")
                        : Fail($"the container did not reach the host at {hostIp}:{callbackPort} within 10 s",
                            "check the pod network's gateway and masquerading, and that the host firewall accepts traffic from the pod CIDR");
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
            if (!await Step("hostPort → pod", onStep, async () =>
                {
                    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                    var url = $"http://{hostIp}:{hostPort}/";
                    var watch = Stopwatch.StartNew();
                    string last = "";
                    while (watch.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        try
                        {
                            var body = (await http.GetStringAsync(url, cancellationToken).ConfigureAwait(false)).Trim();
                            if (body == token)
                            {
                                return Pass($"{url} answered from the pod");
                            }
                            last = $"unexpected answer \"{body}\"";
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                        {
                            last = e.Message;
                        }
                        await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                    }
                    return Fail($"{url} did not reach the pod: {last}", "the CNI configuration needs the portmap plugin with capabilities {\"portMappings\": true}");
                }).ConfigureAwait(false))
            {
                return Report(usedOwnNetwork);
            }
        }
        catch (RpcException e)
        {
            _steps.Add(new NodeCheckStep(_current ?? "cri", false, TimeSpan.Zero, $"CRI call failed: {e.Status.Detail}", "see " + paths.LogFile));
        }
        finally
        {
            listener?.Stop();
            var cleanup = await CleanupAsync(sandboxId, containerId, usedOwnNetwork ? (ownNetworkFile, network.Bridge) : null).ConfigureAwait(false);
            if (sandboxId is not null || usedOwnNetwork)
            {
                _steps.Add(cleanup);
                onStep?.Invoke(cleanup);
            }
        }
        return Report(usedOwnNetwork);
    }

    private string? _current;

    private NodeCheckReport Report(bool usedOwnNetwork) => new(_steps.ToList(), usedOwnNetwork);

    private async Task<bool> Step(string name, Action<NodeCheckStep>? onStep, Func<Task<(bool Ok, string Detail, string? Fix)>> body)
    {
        _current = name;
        var watch = Stopwatch.StartNew();
        (bool Ok, string Detail, string? Fix) outcome;
        try
        {
            outcome = await body().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            outcome = Fail($"CRI refused: {e.Status.Detail}", "see " + settings.Paths.LogFile);
        }
        catch (BulwarkException e)
        {
            outcome = Fail(e.Message, null);
        }
        var step = new NodeCheckStep(name, outcome.Ok, watch.Elapsed, outcome.Detail, outcome.Fix);
        _steps.Add(step);
        onStep?.Invoke(step);
        return step.Ok;
    }

    private static (bool, string, string?) Pass(string detail) => (true, detail, null);

    private static (bool, string, string?) Fail(string detail, string? fix) => (false, detail, fix);

    private (bool, string, string?) CheckPlugins(IEnumerable<string> plugins)
    {
        var missing = plugins.Where(p => !File.Exists(Path.Combine(settings.CniBinDir, p))).ToList();
        return missing.Count == 0
            ? Pass($"{string.Join(", ", plugins)} in {settings.CniBinDir}")
            : Fail($"CNI plugins missing from {settings.CniBinDir}: {string.Join(", ", missing)}",
                "install the standard plugins (apt-get install containernetworking-plugins, or the CNI provider's bundle into /opt/cni/bin)");
    }

    /// <summary>The plugin types a conflist (or single conf) names, plus loopback, which CRI always runs.</summary>
    private static IEnumerable<string> PluginsOf(string confFile)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(confFile));
        var root = doc.RootElement;
        var types = root.TryGetProperty("plugins", out var plugins)
            ? plugins.EnumerateArray().Select(p => p.GetProperty("type").GetString()!).ToList()
            : [root.GetProperty("type").GetString()!];
        return types.Append("loopback").Distinct(StringComparer.Ordinal).ToList();
    }

    private async Task<NodeCheckStep> CleanupAsync(string? sandboxId, string? containerId, (string File, string Bridge)? ownNetwork)
    {
        var watch = Stopwatch.StartNew();
        var problems = new List<string>();
        async Task Try(string what, Func<Task> action)
        {
            try
            {
                await action().ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                problems.Add($"{what}: {e.Status.Detail}");
            }
        }
        if (containerId is not null)
        {
            await Try("stop container", () => cri.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = containerId, Timeout = 0 }, deadline: CriClient.Deadline(30)).ResponseAsync).ConfigureAwait(false);
            await Try("remove container", () => cri.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, deadline: CriClient.Deadline(30)).ResponseAsync).ConfigureAwait(false);
        }
        if (sandboxId is not null)
        {
            // StopPodSandbox runs CNI DEL (with the same port mappings), which releases the address and the hostPort rules.
            await Try("stop sandbox", () => cri.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandboxId }, deadline: CriClient.Deadline(60)).ResponseAsync).ConfigureAwait(false);
            await Try("remove sandbox", () => cri.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandboxId }, deadline: CriClient.Deadline(60)).ResponseAsync).ConfigureAwait(false);
        }
        if (ownNetwork is { } own)
        {
            File.Delete(own.File);
            // CNI DEL leaves the bridge (and its gateway address) up; another check with the same subnet would then route
            // into this one's dead bridge.
            var ip = Processes.ProgramLocator.Require("ip", "Install iproute2 (apt-get install iproute2).");
            var deleted = await Processes.ProcessRunner.RunAsync(new Processes.ProcessSpec(ip, ["link", "delete", own.Bridge]) { Timeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
            if (!deleted.Succeeded && !deleted.StandardError.Contains("Cannot find device", StringComparison.Ordinal))
            {
                problems.Add($"remove bridge {own.Bridge}: {deleted.StandardError.Trim()}");
            }
        }
        return problems.Count == 0
            ? new NodeCheckStep("cleanup", true, watch.Elapsed, "container, sandbox and pod address removed" + (ownNetwork is null ? "" : "; the check's network configuration and bridge removed"))
            : new NodeCheckStep("cleanup", false, watch.Elapsed, string.Join("; ", problems), "remove leftovers with: ctr --address " + cri.SocketPath + " -n k8s.io containers ls");
    }

    private static async Task<string> AcceptTokenAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(client.GetStream());
        return (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) ?? "").Trim();
    }

    /// <summary>An address of this host the pod can reach and the hostPort rules match: node-ip unless loopback, else the first non-loopback IPv4.</summary>
    public static string HostAddress(string? nodeIp)
    {
        if (nodeIp is { Length: > 0 } && IPAddress.TryParse(nodeIp, out var configured) && !IPAddress.IsLoopback(configured))
        {
            return nodeIp;
        }
        return NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback && !n.Name.StartsWith("bwck", StringComparison.Ordinal) && !n.Name.StartsWith("veth", StringComparison.Ordinal))
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString()
            ?? throw new BulwarkException(ErrorKind.Unavailable, "this host has no non-loopback IPv4 address for the hostPort check; set node-ip");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Any, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
