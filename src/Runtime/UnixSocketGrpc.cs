using System.Net.Sockets;
using Grpc.Net.Client;

namespace Bulwark.Runtime;

/// <summary>A gRPC channel over a unix socket (HTTP/2 without TLS): how containerd's CRI and the KMS plugin are reached.</summary>
public static class UnixSocketGrpc
{
    public static GrpcChannel Channel(string socketPath, string authority, int maxReceiveMessageSize = 4 * 1024 * 1024)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://" + authority, new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = maxReceiveMessageSize });
    }
}
