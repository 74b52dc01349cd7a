using System.Net;
using Bulwark.Crypto;
using Bulwark.Pki;
using Bulwark.Supervisor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Tests.Supervisor;

/// <summary>
/// A man in the middle for tests: an HTTPS listener with its own (foreign) CA in front of a real supervisor. It answers
/// /cacerts with the bytes it is given (a foreign CA, or the real one to pass the hash check) and forwards every other
/// request to the real supervisor.
/// </summary>
public sealed class TamperingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream;

    private TamperingProxy(WebApplication app, HttpClient upstream)
    {
        _app = app;
        _upstream = upstream;
    }

    public Uri Url { get; private set; } = null!;

    public static async Task<TamperingProxy> StartAsync(IPAddress address, Uri upstream, byte[] cacertsBody, CancellationToken cancellationToken)
    {
        var crypto = CryptoService.For(FipsMode.On);
        var issuer = new CertificateIssuer(crypto, TimeProvider.System);
        using var foreignCa = issuer.CreateCa("bulwark-server-ca@evil", KeyAlgorithm.EcdsaP256);
        var serving = SupervisorCertificate.Issue(issuer, foreignCa, "proxy", [], [address]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, 0, l => l.UseHttps(serving)));
        var app = builder.Build();
        // The proxy forwards without checking the upstream: it is the attacker here.
        var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { BaseAddress = upstream };
        app.Run(async context =>
        {
            if (context.Request.Path == "/cacerts")
            {
                await context.Response.Body.WriteAsync(cacertsBody, context.RequestAborted);
                return;
            }
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
            foreach (var header in context.Request.Headers.Where(h => h.Key.StartsWith("Authorization", StringComparison.Ordinal) || h.Key.StartsWith("Bulwark-", StringComparison.Ordinal)))
            {
                forward.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
            }
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (body.Length > 0)
            {
                forward.Content = new ByteArrayContent(body.ToArray());
            }
            using var response = await http.SendAsync(forward, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync(cancellationToken);
        var proxy = new TamperingProxy(app, http);
        proxy.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
