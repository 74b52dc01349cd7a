using System.Net;
using System.Net.Sockets;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Microsoft.Extensions.Logging;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// Real Bulwark servers for tests, each on its own loopback address (127.0.0.x): a real etcd process (mutual TLS, peer
/// TLS) and a real supervisor (Kestrel, HTTPS), with its own data dir. Everything started is stopped on dispose.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private readonly List<ServerNode> _servers = [];
    private readonly StringWriter _logText = new();

    public ClusterHarness(string prefix)
    {
        Root = new TempDirectory(prefix);
        var writer = TextWriter.Synchronized(_logText);
        Loggers = LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(LogLevel.Debug);
            builder.AddProvider(new BulwarkLoggerProvider(LogFormat.Text, LogLevel.Debug, writer, color: false));
        });
    }

    public TempDirectory Root { get; }
    public ILoggerFactory Loggers { get; }
    public CryptoService Crypto { get; } = CryptoService.For(FipsMode.On);
    public IReadOnlyList<ServerNode> Servers => _servers;

    /// <summary>Everything logged so far (debug level, access log included).</summary>
    public string Log
    {
        get
        {
            lock (_logText)
            {
                return _logText.ToString();
            }
        }
    }

    /// <summary>The first server: creates the PKI and token, a single-member etcd, and its supervisor.</summary>
    public async Task<ServerNode> InitAsync(string name, IPAddress ip, CancellationToken cancellationToken, FailedAuthLimiter? limiter = null, bool metrics = false, int supervisorPort = 0)
    {
        var dataDir = Root.Combine(name);
        new ServerPki(Crypto, TimeProvider.System, Loggers.CreateLogger<ServerPki>()).Ensure(PkiOptions(dataDir, name, ip, null));
        var etcd = NewEtcdNode(dataDir, name, ip);
        var member = new EtcdMember(etcd.Prepare(etcd.SingleMemberConfig()), Loggers.CreateLogger<EtcdMember>());
        var node = new ServerNode(name, ip, dataDir, etcd, member, this);
        _servers.Add(node);
        await member.StartAsync(cancellationToken);
        await node.StartSupervisorAsync(cancellationToken, limiter, metrics, supervisorPort);
        return node;
    }

    /// <summary>A server joining through <paramref name="via"/>'s supervisor with the token.</summary>
    public async Task<ServerNode> JoinAsync(string name, IPAddress ip, Uri via, string token, CancellationToken cancellationToken)
    {
        var dataDir = Root.Combine(name);
        var etcd = NewEtcdNode(dataDir, name, ip);
        var result = await new ServerJoin(Crypto, Loggers).RunAsync(new ServerJoinOptions(via, token, PkiOptions(dataDir, name, ip, null), etcd, Bulwark.Cni.CniSelection.Default)
        {
            ReadyTimeout = TimeSpan.FromSeconds(60),
        }, cancellationToken);
        var node = new ServerNode(name, ip, dataDir, etcd, result.Member, this);
        _servers.Add(node);
        await node.StartSupervisorAsync(cancellationToken, null, false);
        return node;
    }

    public static ServerPkiOptions PkiOptions(string dataDir, string name, IPAddress ip, string? token) =>
        new(dataDir, KeyAlgorithm.EcdsaP256, new NodeIdentity(name, [ip]), [], ["10.43.0.0/16"], "cluster.local", token, null);

    public static AgentClusterConfig AgentConfigFor(IPAddress ip, int supervisorPort) => new()
    {
        ClusterCidr = "10.42.0.0/16",
        ServiceCidr = "10.43.0.0/16",
        ClusterDns = "10.43.0.10",
        ClusterDomain = "cluster.local",
        Cni = "canal",
        Profile = "cis",
        SupervisorEndpoints = [$"https://{ip}:{supervisorPort}"],
        ApiserverEndpoints = [$"https://{ip}:6443"],
    };

    /// <summary>A port free on the address (bound and released; etcd and Kestrel bind it right after).</summary>
    public static int FreePort(IPAddress address)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static EtcdNode NewEtcdNode(string dataDir, string name, IPAddress ip)
    {
        // The client port must be free on 127.0.0.1 (local endpoint) and on the node address.
        int clientPort;
        do
        {
            clientPort = FreePort(IPAddress.Loopback);
        }
        while (!IsFree(ip, clientPort));
        return new EtcdNode(new EtcdPaths(dataDir), name, ip.ToString(), clientPort, FreePort(ip), FreePort(IPAddress.Loopback));
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
        Loggers.Dispose();
        Root.Dispose();
    }
}

/// <summary>One test server: its etcd member and supervisor. <see cref="KillAsync"/> is kill -9 of its etcd plus an abrupt supervisor stop.</summary>
public sealed class ServerNode(string name, IPAddress ip, string dataDir, EtcdNode etcd, EtcdMember member, ClusterHarness harness) : IAsyncDisposable
{
    public string Name => name;
    public IPAddress Ip => ip;
    public string DataDir => dataDir;
    public EtcdNode Etcd => etcd;
    private bool _memberStopped;

    public EtcdMember Member { get; private set; } = member;
    public SupervisorServer? Supervisor { get; private set; }
    public EtcdClient? Client { get; private set; }

    public Uri SupervisorUrl => Supervisor!.Url;
    public Uri EtcdUrl => new(etcd.AdvertisedClientUrl);
    public string Token => File.ReadAllText(new ServerPkiPaths(dataDir).Token).Trim();

    /// <summary>An etcd client of this server only (its advertised client URL).</summary>
    public EtcdClient NewClient(IReadOnlyList<Uri>? endpoints = null) => new(new EtcdClientOptions(endpoints ?? [EtcdUrl], etcd.Paths.ClientTls) { CallTimeout = TimeSpan.FromSeconds(5) });

    public async Task StartSupervisorAsync(CancellationToken cancellationToken, FailedAuthLimiter? limiter, bool metrics, int port = 0)
    {
        Client = NewClient();
        port = port == 0 ? ClusterHarness.FreePort(ip) : port;
        var options = new SupervisorOptions(dataDir, ip, port, new NodeIdentity(name, [ip]), [], ClusterHarness.AgentConfigFor(ip, port), metrics);
        Supervisor = await SupervisorStartup.StartAsync(options, harness.Crypto, Client, harness.Loggers, cancellationToken, limiter);
    }

    /// <summary>SIGKILL to etcd (no graceful shutdown, no restart by its supervisor) and the supervisor dropped.</summary>
    public async Task KillAsync()
    {
        if (Member.Pid is { } pid)
        {
            Processes.Signals.Send(pid, Processes.Signals.SigKill);
        }
        await Member.DisposeAsync();
        _memberStopped = true;
        if (Supervisor is not null)
        {
            await Supervisor.DisposeAsync();
            Supervisor = null;
        }
        Client?.Dispose();
        Client = null;
    }

    /// <summary>Starts this server again from its data dir (it has member data, so it rejoins without the supervisor of another server).</summary>
    public async Task RestartAsync(Uri via, CancellationToken cancellationToken)
    {
        var result = await new ServerJoin(harness.Crypto, harness.Loggers).RunAsync(
            new ServerJoinOptions(via, Token, ClusterHarness.PkiOptions(dataDir, name, ip, null), etcd, Bulwark.Cni.CniSelection.Default), cancellationToken);
        Member = result.Member;
        _memberStopped = false;
        await StartSupervisorAsync(cancellationToken, null, false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Supervisor is not null)
        {
            await Supervisor.DisposeAsync();
            Supervisor = null;
        }
        Client?.Dispose();
        Client = null;
        if (!_memberStopped)
        {
            await Member.DisposeAsync();
            _memberStopped = true;
        }
    }
}
