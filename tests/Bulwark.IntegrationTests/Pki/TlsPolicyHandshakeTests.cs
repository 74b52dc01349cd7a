using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Tests.Pki;

/// <summary>A .NET listener with the TLS policy applied, probed by the real openssl s_client.</summary>
public sealed class TlsPolicyHandshakeTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-tls-policy");
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _server;

    private ServerPkiPaths Paths => new(_dir.Path);
    private string Port => ((IPEndPoint)_listener!.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

    public ValueTask InitializeAsync()
    {
        TestPki.Create(_dir.Path);
        var certificate = X509Certificate2.CreateFromPemFile(Paths.ServingKubeApiserver.Certificate, Paths.ServingKubeApiserver.Key);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _server = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                using (client)
                {
                    try
                    {
                        await using var tls = new SslStream(client.GetStream());
                        await tls.AuthenticateAsServerAsync(TlsPolicy.BuiltIn.Apply(new SslServerAuthenticationOptions { ServerCertificate = certificate }), _stop.Token);
                        await tls.WriteAsync("hello\n"u8.ToArray(), _stop.Token);
                        await tls.ShutdownAsync();
                        // Wait for the client to close, so it sees a clean close_notify rather than EOF.
                        var buffer = new byte[256];
                        while (await tls.ReadAsync(buffer, _stop.Token) > 0)
                        {
                        }
                    }
                    catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
                    {
                        // Refused handshakes are what some tests expect.
                    }
                }
            }
        });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener?.Stop();
        if (_server is not null)
        {
            await _server;
        }
        _stop.Dispose();
        _dir.Dispose();
    }

    private Task<Processes.ProcessResult> Connect(params string[] options) =>
        OpenSsl.RunAsync(["s_client", "-connect", $"127.0.0.1:{Port}", "-CAfile", Paths.ServerCa.Certificate, "-verify_return_error", .. options]);

    [Theory]
    [InlineData("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256")]
    [InlineData("-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384")]
    [InlineData("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256")]
    [InlineData("-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384")]
    public async Task Approved_versions_and_suites_are_accepted(string version, string option, string suite, string expected)
    {
        var result = await Connect(version, option, suite);
        Assert.True(result.Succeeded, result.StandardError + result.StandardOutput);
        Assert.Contains($"Cipher is {expected}", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")]
    [InlineData("-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")]
    [InlineData("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256")]
    [InlineData("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")]
    [InlineData("-tls1", "-cipher", "DEFAULT@SECLEVEL=0")]
    public async Task Other_suites_and_old_versions_are_refused(string version, string option, string value)
    {
        var result = await Connect(version, option, value);
        Assert.False(result.Succeeded, result.StandardOutput);
        // s_client prints a session summary even after a failed handshake; the cipher then is (NONE).
        Assert.Contains("Cipher is (NONE)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("no peer certificate available", result.StandardOutput, StringComparison.Ordinal);
    }
}
