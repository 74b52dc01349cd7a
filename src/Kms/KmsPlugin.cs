using System.Net.Sockets;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Kms;

/// <summary>
/// Bulwark's KMS v2 plugin: the gRPC service on a unix socket (HTTP/2 without TLS, as kube-apiserver dials it), mode
/// 0600 in a 0700 folder so only root reaches it. Started by the server's kms stage before kube-apiserver, disposed
/// after it.
/// </summary>
public sealed class KmsPlugin : IAsyncDisposable
{
    /// <summary>The socket kube-apiserver dials on a node with the default data dir.</summary>
    public const string DefaultSocket = "/run/bulwark/kms.sock";

    private const int MaxMessage = 64 * 1024;

    private readonly WebApplication _app;
    private readonly KmsKeyHolder _keys;

    private KmsPlugin(WebApplication app, KmsKeyHolder keys, string socketPath)
    {
        _app = app;
        _keys = keys;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public KmsKeyHolder Keys => _keys;

    /// <summary>Unseals the keyring and serves it on <paramref name="socketPath"/> (a stale socket file is replaced).</summary>
    public static async Task<KmsPlugin> StartAsync(KmsKeyStore store, CryptoService crypto, string socketPath, CancellationToken cancellationToken)
    {
        var keys = await KmsKeyHolder.LoadAsync(store, cancellationToken).ConfigureAwait(false);
        try
        {
            // A new folder is root-only; an existing one (/run/bulwark, shared with containerd's run folder) keeps its mode.
            // Connecting needs write permission on the socket, so the umask's mode before the chmod below admits only root.
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(socketPath))!, AtomicFile.PrivateDirectory);
            RemoveStaleSocket(socketPath);
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "bulwark-kms", ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
            });
            // KMS messages are a DEK seed and a ciphertext of at most 1 KiB: refuse anything far larger before parsing it.
            builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = MaxMessage);
            builder.Services.AddSingleton(new KmsPluginService(keys, crypto));
            var app = builder.Build();
            app.MapGrpcService<KmsPluginService>();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(socketPath, AtomicFile.Private);
            return new KmsPlugin(app, keys, socketPath);
        }
        catch
        {
            await keys.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _keys.DisposeAsync().ConfigureAwait(false);
        RemoveStaleSocket(SocketPath);
    }

    /// <summary>A socket file left by a crashed run refuses the bind; nobody serves it (the data dir lock says so).</summary>
    private static void RemoveStaleSocket(string socketPath)
    {
        if (Path.Exists(socketPath))
        {
            File.Delete(socketPath);
        }
    }
}
