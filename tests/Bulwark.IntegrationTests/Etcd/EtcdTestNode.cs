using Bulwark.Etcd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Tests.Etcd;

/// <summary>One real etcd member for a test: its own temp data dir, openssl-made certs, free ports; always stopped on dispose.</summary>
public sealed class EtcdTestNode : IAsyncDisposable
{
    private EtcdTestNode(TempDirectory dir, EtcdNode node)
    {
        Dir = dir;
        Node = node;
    }

    public TempDirectory Dir { get; }

    public EtcdNode Node { get; }

    public EtcdMember? Member { get; private set; }

    public string DataDir => Dir.Path;

    public Uri ClientUrl => Node.LocalClientUrl;

    public static async Task<EtcdTestNode> CreateAsync(string name, EtcdTestNode? sharePkiWith = null)
    {
        var dir = new TempDirectory("bulwark-etcd");
        if (sharePkiWith is null)
        {
            await OpenSslEtcdCerts.CreateAsync(dir.Path, TestContext.Current.CancellationToken);
        }
        else
        {
            OpenSslEtcdCerts.CopyTo(sharePkiWith.DataDir, dir.Path);
        }
        var ports = FreePorts.Take(3);
        var node = new EtcdNode(new EtcdPaths(dir.Path), name, "127.0.0.1", ports[0], ports[1], ports[2]);
        return new EtcdTestNode(dir, node);
    }

    /// <summary>Starts a fresh single-member cluster (or the existing member data).</summary>
    public Task StartAsync(ILogger? logger = null) => StartAsync(Node.SingleMemberConfig(), logger);

    public async Task StartAsync(EtcdMemberConfig config, ILogger? logger = null)
    {
        Member = new EtcdMember(Node.Prepare(config), logger ?? NullLogger.Instance);
        await Member.StartAsync(TestContext.Current.CancellationToken);
    }

    public async Task StopAsync()
    {
        if (Member is { } m)
        {
            await m.DisposeAsync();
            Member = null;
        }
    }

    public EtcdClient Client() => new(Node.ClientOptions());

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Dir.Dispose();
    }
}
