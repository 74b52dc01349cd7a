using System.Net.Sockets;
using System.Text;
using Bulwark.Operations;

namespace Bulwark.Tests.Operations;

/// <summary>sd_notify datagrams received on a real unix datagram socket, as systemd's would be.</summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-notify");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ready_sends_one_datagram_with_ready_status_and_main_pid(bool abstractNamespace)
    {
        var name = abstractNamespace ? "@bulwark-notify-" + Guid.NewGuid().ToString("N") : _dir.Combine("notify.sock");
        using var receiver = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        receiver.Bind(new UnixDomainSocketEndPoint(abstractNamespace ? "\0" + name[1..] : name));
        receiver.ReceiveTimeout = 5000;

        var notifier = SystemdNotifier.From(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = name });
        notifier.Ready("server ready\non 10.0.0.1");

        var buffer = new byte[4096];
        var text = Encoding.UTF8.GetString(buffer, 0, receiver.Receive(buffer));
        Assert.Equal($"READY=1\nSTATUS=server ready on 10.0.0.1\nMAINPID={Environment.ProcessId}", text);
    }

    [Fact]
    public void Without_notify_socket_nothing_is_sent()
    {
        var notifier = SystemdNotifier.From(new Dictionary<string, string>());

        Assert.False(notifier.Enabled);
        Assert.Equal(SocketError.Success, notifier.Send("READY=1"));
    }

    [Fact]
    public void A_missing_socket_is_reported_not_thrown()
    {
        var notifier = new SystemdNotifier(_dir.Combine("absent.sock"));

        Assert.NotEqual(SocketError.Success, notifier.Send("READY=1"));
    }
}
