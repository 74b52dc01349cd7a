using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Bulwark.Kube;
using Bulwark.Tests.Cni;

namespace Bulwark.Tests.Kube;

/// <summary>
/// Bulwark's Kubernetes API client against a local HTTPS listener (kube-apiserver is not installable here): the
/// kubeconfig's CA is the only trust, the token goes as a bearer header, the apiserver's Status message reaches the error.
/// </summary>
public sealed class KubeApiClientHttpBoundaryTests : IAsyncLifetime
{
    private RecordingApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await RecordingApiServer.StartAsync();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    private static Credential Pem(X509Certificate2 certificate) => new(null, Convert.ToBase64String(Encoding.ASCII.GetBytes(certificate.ExportCertificatePem())));

    private KubeApiClient Client(Credential? ca) => new(new Kubeconfig(_api.Url, "u", ca, null, null, "the-token"), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Http_boundary_an_apiserver_whose_certificate_another_CA_issued_is_refused_before_any_request()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = new CertificateRequest("CN=other-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        using var client = Client(Pem(other));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.FindAsync("/version", KubeJsonContext.Default.VersionInfo, TestContext.Current.CancellationToken));
        Assert.IsType<AuthenticationException>(e.InnerException);
        Assert.Empty(_api.Take());
    }

    [Fact]
    public async Task Http_boundary_the_token_is_a_bearer_header_and_missing_objects_are_null_or_already_gone()
    {
        using var client = Client(Pem(_api.Certificate));
        Assert.Null(await client.FindAsync("/api/v1/nodes/n1", KubeJsonContext.Default.KubeListNodePodCidrs, TestContext.Current.CancellationToken));
        _api.Respond = r => r.Method == "DELETE" ? (404, """{"kind":"Status","code":404}""") : null;
        Assert.False(await client.DeleteAsync("/api/v1/namespaces/a", TestContext.Current.CancellationToken));
        Assert.All(_api.Take(), r => Assert.Equal("Bearer the-token", r.Authorization));
    }

    [Fact]
    public async Task Http_boundary_a_refusal_carries_the_apiservers_status_message()
    {
        _api.Respond = _ => (403, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes is forbidden: User \"u\" cannot list resource \"nodes\"","code":403}""");
        using var client = Client(Pem(_api.Certificate));
        var e = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync("/api/v1/nodes", KubeJsonContext.Default.KubeListNodePodCidrs, TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.Forbidden, e.Status);
        Assert.Equal("the apiserver answered GET /api/v1/nodes with 403 Forbidden: nodes is forbidden: User \"u\" cannot list resource \"nodes\"", e.Message);
    }
}
