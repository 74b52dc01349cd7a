using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bulwark.Tests.Cni;

/// <summary>
/// An HTTPS listener on 127.0.0.1 (free port) that records every request the applier's Kubernetes client sends — method,
/// path, query, content type, body — and answers as the apiserver's contract says (echo for apply, 404/201 for leases).
/// It is the HTTP boundary: no kube-apiserver exists here, so nothing behind it pretends to apply anything.
/// </summary>
public sealed class RecordingApiServer : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string Query, string ContentType, string Body, string Authorization = "");

    private readonly WebApplication _app;

    private RecordingApiServer(WebApplication app, X509Certificate2 certificate, string url)
    {
        _app = app;
        Certificate = certificate;
        Url = url;
    }

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Answers for requests; null falls back to the defaults below.</summary>
    public Func<Request, (int Status, string Body)?> Respond { get; set; } = _ => null;

    public X509Certificate2 Certificate { get; }
    public string Url { get; }

    public static async Task<RecordingApiServer> StartAsync()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=recording-apiserver", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var certificate = X509CertificateLoader.LoadPkcs12(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1)).Export(X509ContentType.Pfx), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        RecordingApiServer? self = null;
        app.Run(async context => await self!.HandleAsync(context));
        await app.StartAsync();
        var url = app.Urls.First();
        self = new RecordingApiServer(app, certificate, url.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        return self;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var request = new Request(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
            context.Request.ContentType ?? "", await reader.ReadToEndAsync(), context.Request.Headers.Authorization.ToString());
        Requests.Enqueue(request);
        var (status, body) = Respond(request) ?? Default(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    private static (int, string) Default(Request request) => request.Method switch
    {
        "GET" => (404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"""),
        "POST" => (201, request.Body),
        "DELETE" => (200, """{"kind":"Status","apiVersion":"v1","status":"Success"}"""),
        _ => (200, request.Body),
    };

    public IReadOnlyList<Request> Take()
    {
        var taken = new List<Request>();
        while (Requests.TryDequeue(out var r))
        {
            taken.Add(r);
        }
        return taken;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }
}
