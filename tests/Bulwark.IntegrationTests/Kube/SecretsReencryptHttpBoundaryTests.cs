using System.Text;
using System.Text.Json.Nodes;
using Bulwark.ControlPlane;
using Bulwark.Kube;
using Bulwark.Tests.Cni;

namespace Bulwark.Tests.Kube;

/// <summary>
/// <c>secrets-encrypt reencrypt</c>'s API calls up to the HTTP boundary (kube-apiserver is not installable here): every
/// Secret of every page is written back unchanged to its own path, and one changed or deleted meanwhile is not an error.
/// </summary>
public sealed class SecretsReencryptHttpBoundaryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("bulwark-reencrypt");
    private RecordingApiServer _api = null!;

    public async ValueTask InitializeAsync() => _api = await RecordingApiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        _dir.Dispose();
    }

    private static string Secret(string ns, string name, string version) =>
        $$$"""{"metadata":{"name":"{{{name}}}","namespace":"{{{ns}}}","resourceVersion":"{{{version}}}"},"type":"Opaque","data":{"k":"{{{Convert.ToBase64String(Encoding.ASCII.GetBytes(name))}}}"}}""";

    // A Secret with fields no client model knows yet: a PUT must write them back as they were.
    private const string FromTheFuture = """{"metadata":{"name":"c","namespace":"apps","resourceVersion":"13","labels":{"tier":"db"},"managedFields":[{"manager":"kubectl","operation":"Apply"}]},"type":"Opaque","immutable":true,"data":{"k":"Yw=="},"sealedBy":{"vendor":"x","version":2}}""";

    [Fact]
    public async Task Http_boundary_every_secret_of_every_page_is_replaced_unchanged_and_conflicts_count_as_current()
    {
        _api.Respond = r => (r.Method, r.Path, r.Query) switch
        {
            ("GET", "/version", _) => (200, """{"major":"1","minor":"32","gitVersion":"v1.32.3"}"""),
            ("GET", "/api/v1/secrets", "?limit=500") => (200, $$"""{"kind":"SecretList","apiVersion":"v1","metadata":{"continue":"page-2"},"items":[{{Secret("kube-system", "a", "11")}},{{Secret("apps", "b", "12")}}]}"""),
            ("GET", "/api/v1/secrets", "?limit=500&continue=page-2") => (200, $$"""{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{{FromTheFuture}}]}"""),
            ("PUT", "/api/v1/namespaces/apps/secrets/b", _) => (409, """{"kind":"Status","code":409,"message":"the object has been modified"}"""),
            _ => null,
        };
        var kubeconfig = new Kubeconfig(_api.Url, "admin", new Credential(null, Convert.ToBase64String(Encoding.ASCII.GetBytes(_api.Certificate.ExportCertificatePem()))), null, null, "admin-token");
        var progress = new StringWriter();
        var reencryptor = new ApiSecretsReencryptor(_dir.Write("admin.kubeconfig", kubeconfig.ToYaml()), progress);

        Assert.Null(await reencryptor.UnavailableReasonAsync(TestContext.Current.CancellationToken));
        await reencryptor.ReencryptAllAsync(TestContext.Current.CancellationToken);

        var puts = _api.Take().Where(r => r.Method == "PUT").ToList();
        Assert.Equal(["/api/v1/namespaces/kube-system/secrets/a", "/api/v1/namespaces/apps/secrets/b", "/api/v1/namespaces/apps/secrets/c"], puts.Select(p => p.Path));
        var first = JsonNode.Parse(puts[0].Body)!;
        Assert.Equal(("v1", "Secret", "11"), (first["apiVersion"]!.GetValue<string>(), first["kind"]!.GetValue<string>(), first["metadata"]!["resourceVersion"]!.GetValue<string>()));
        Assert.Equal(Convert.ToBase64String("a"u8), first["data"]!["k"]!.GetValue<string>());
        var last = JsonNode.Parse(puts[2].Body)!.AsObject();
        Assert.Equal(("v1", "Secret"), (last["apiVersion"]!.GetValue<string>(), last["kind"]!.GetValue<string>()));
        last.Remove("apiVersion");
        last.Remove("kind");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(FromTheFuture), last), puts[2].Body);
        Assert.Contains("re-encrypted 2 Secrets; 1 changed or deleted meanwhile (already current)", progress.ToString());
    }
}
