using System.Net.Sockets;
using System.Text;

namespace Bulwark.Operations;

/// <summary>
/// The sd_notify protocol for <c>Type=notify</c> units: one datagram of <c>KEY=VALUE</c> lines to the unix socket
/// named by <c>$NOTIFY_SOCKET</c> (a leading <c>@</c> means the abstract namespace). Written here rather than taken
/// from libsystemd because it is one datagram and P/Invoke into libsystemd would tie the AOT binary to it.
/// Without <c>$NOTIFY_SOCKET</c> (not run by systemd) every call does nothing.
/// </summary>
public sealed class SystemdNotifier(string? socketPath)
{
    public static SystemdNotifier From(IReadOnlyDictionary<string, string> environment) =>
        new(environment.TryGetValue("NOTIFY_SOCKET", out var path) && path.Length > 0 ? path : null);

    public bool Enabled => socketPath is not null;

    /// <summary>Every stage is up: systemd marks the unit started.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={OneLine(status)}\nMAINPID={Environment.ProcessId}");

    public void Status(string status) => Send($"STATUS={OneLine(status)}");

    public void Stopping() => Send("STOPPING=1");

    /// <summary>Best effort: a lost notification must never take a running node down, so errors are returned, not thrown.</summary>
    public SocketError Send(string state)
    {
        if (socketPath is null)
        {
            return SocketError.Success;
        }
        var address = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(address));
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
