using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Bulwark.Tests.Kms;

/// <summary>
/// A real software TPM 2.0 (swtpm) on two free loopback ports with its own state folder, for tpm2-tools through the
/// swtpm TCTI. A new instance has a fresh state: a new owner seed, so nothing sealed by another instance unseals.
/// </summary>
public sealed class SoftwareTpm : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _state = new("bulwark-swtpm");

    public SoftwareTpm()
    {
        var port = ConsecutiveFreePorts();
        _process = Process.Start(new ProcessStartInfo("swtpm",
        [
            "socket", "--tpm2", "--server", $"type=tcp,port={port},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1",
            "--tpmstate", "dir=" + _state.Path, "--flags", "not-need-init,startup-clear",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        Tcti = $"swtpm:host=127.0.0.1,port={port}";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Answers(port))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new InvalidOperationException($"swtpm did not listen on 127.0.0.1:{port}");
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>The tpm2-tools TCTI string that reaches this TPM.</summary>
    public string Tcti { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        _state.Dispose();
    }

    private static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>swtpm takes its control channel on the next port: find a free pair.</summary>
    private static int ConsecutiveFreePorts()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            first.Stop();
            if (port >= 65535)
            {
                continue;
            }
            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                second.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no two consecutive free loopback ports");
    }
}
