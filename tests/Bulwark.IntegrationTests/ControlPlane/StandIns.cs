using System.Net;
using System.Net.Sockets;

namespace Bulwark.Tests.ControlPlane;

/// <summary>
/// Real programs standing in for the upstream component binaries, which are not installable here: a shell script that
/// records its argv and start order, then execs busybox (httpd on a loopback port for components gated on a port,
/// sleep for the others). SIGTERM ends busybox, so a clean stop is observable.
/// </summary>
public static class StandIns
{
    public static string Busybox => File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Writes bin/&lt;name&gt;: records "$@" to &lt;record&gt;/&lt;name&gt;.argv (one per line), appends the name to &lt;record&gt;/order.</summary>
    public static void Write(string binDir, string recordDir, string name, int? listenPort, string? webRoot = null)
    {
        Directory.CreateDirectory(binDir);
        var exec = listenPort is { } port
            ? $"exec {Busybox} httpd -f -p 127.0.0.1:{port} -h {webRoot ?? recordDir}"
            : $"exec {Busybox} sleep 600";
        var script = $"""
            #!/bin/sh
            # Stand-in for {name} (the upstream binary is not available here).
            printf '%s\n' "$@" > {recordDir}/{name}.argv
            echo {name} >> {recordDir}/order
            echo "{name} stand-in starting"
            {exec}
            """;
        var path = Path.Combine(binDir, name);
        File.WriteAllText(path, script.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
