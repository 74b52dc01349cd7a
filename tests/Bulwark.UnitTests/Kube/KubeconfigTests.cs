using System.Text.Json;
using Bulwark.Kube;
using Bulwark.Pki;
using k8s.Models;

namespace Bulwark.Tests.Kube;

public sealed class KubeconfigTests : IDisposable
{
    private readonly TempDirectory _dir = new("bulwark-kubeconfig");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void What_Bulwark_writes_reads_back_the_same()
    {
        var written = Kubeconfig.ForCertificate("https://10.0.0.1:6443", "system:node:n1", "/d/server-ca.crt", new CertificateFiles("/d/c.crt", "/d/c.key"));
        var path = _dir.Write("kubelet.kubeconfig", written.ToYaml());
        var read = Kubeconfig.Parse(File.ReadAllText(path), path);
        Assert.Equal(written, read);
        Assert.DoesNotContain("PRIVATE KEY", written.ToYaml());
    }

    [Fact]
    public void The_current_context_picks_cluster_and_user_and_relative_paths_are_relative_to_the_kubeconfig()
    {
        _dir.Write("kube/token", "s3cret\n");
        var path = _dir.Write("kube/config", """
            apiVersion: v1
            kind: Config
            clusters:
            - {name: prod, cluster: {server: "https://prod:6443", certificate-authority: certs/ca.crt}}
            - {name: lab, cluster: {server: "https://lab:6443", certificate-authority-data: Q0E=}}
            users:
            - {name: ops, user: {client-certificate: /abs/ops.crt, client-key: ops.key}}
            - {name: robot, user: {tokenFile: token}}
            contexts:
            - {name: a, context: {cluster: prod, user: ops}}
            - {name: b, context: {cluster: lab, user: robot}}
            current-context: b
            """);
        var b = Kubeconfig.Parse(File.ReadAllText(path), path);
        Assert.Equal(("https://lab:6443", "robot", "s3cret"), (b.Server, b.User, b.Token));
        Assert.Equal("CA", b.CertificateAuthority!.ReadPem());
        Assert.Null(b.ClientCertificate);

        var a = Kubeconfig.Parse(File.ReadAllText(path).Replace("current-context: b", "current-context: a"), path);
        Assert.Equal(_dir.Combine("kube/certs/ca.crt"), a.CertificateAuthority!.Path);
        Assert.Equal("/abs/ops.crt", a.ClientCertificate!.Path);
        Assert.Equal(_dir.Combine("kube/ops.key"), a.ClientKey!.Path);
    }

    [Theory]
    [InlineData("user: {exec: {command: aws}}", ":7: user \"u\" authenticates with exec")]
    [InlineData("user: {auth-provider: {name: oidc}}", ":7: user \"u\" authenticates with auth-provider")]
    [InlineData("user: {username: a, password: b}", ":7: user \"u\" authenticates with username")]
    [InlineData("user: {client-certificate: c.crt}", ":7: user \"u\" has a client certificate or a client key, not both")]
    [InlineData("user: {}", ":7: user \"u\" has no client certificate and no token")]
    public void Users_Bulwark_cannot_authenticate_as_are_refused_with_file_line_and_what_to_give(string user, string expected)
    {
        var path = _dir.Write("k.yaml", $$$"""
            apiVersion: v1
            kind: Config
            clusters:
            - {name: c, cluster: {server: "https://h:6443"}}
            users:
            - name: u
              {{{user}}}
            contexts:
            - {name: x, context: {cluster: c, user: u}}
            """);
        var e = Assert.Throws<KubeconfigException>(() => Kubeconfig.Parse(File.ReadAllText(path), path));
        Assert.Contains(path + expected, e.Message);
    }

    [Theory]
    [InlineData("{name: c, cluster: {server: \"https://h:6443\", insecure-skip-tls-verify: true}}", "x", "sets insecure-skip-tls-verify; Bulwark verifies the apiserver's certificate")]
    [InlineData("{name: c, cluster: {server: \"https://h:6443\"}}", "missing", "current-context \"missing\" is not among its contexts")]
    [InlineData("{name: other, cluster: {server: \"https://h:6443\"}}", "x", "cluster \"c\" is not among its clusters")]
    public void Clusters_and_contexts_that_do_not_resolve_or_skip_verification_are_refused(string cluster, string current, string expected)
    {
        var path = _dir.Write("k.yaml", $"""
            kind: Config
            clusters:
            - {cluster}
            users:
            - {"{"}name: u, user: {"{"}token: t{"}"}{"}"}
            contexts:
            - {"{"}name: x, context: {"{"}cluster: c, user: u{"}"}{"}"}
            current-context: {current}
            """);
        var e = Assert.Throws<KubeconfigException>(() => Kubeconfig.Parse(File.ReadAllText(path), path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path + ":", e.Message);
    }

    [Fact]
    public void The_client_talks_to_an_apiserver_over_https_only()
    {
        var e = Assert.Throws<KubeconfigException>(() => new KubeApiClient(new Kubeconfig("http://h:8080", "u", null, null, null, "t"), TimeSpan.FromSeconds(1)));
        Assert.Contains("not an https:// URL", e.Message);
    }

    [Fact]
    public void A_CA_that_cannot_be_read_is_a_kubeconfig_error_that_says_what_to_fix()
    {
        var e = Assert.Throws<KubeconfigException>(() => new KubeApiClient(new Kubeconfig("https://h:6443", "u", new Credential(null, "not base64!"), null, null, "t"), TimeSpan.FromSeconds(1)));
        Assert.Contains("fix the file it names or its base64 -data", e.Message);
        e = Assert.Throws<KubeconfigException>(() => new KubeApiClient(new Kubeconfig("https://h:6443", "u", Credential.File(_dir.Combine("missing-ca.crt")), null, null, "t"), TimeSpan.FromSeconds(1)));
        Assert.Contains("missing-ca.crt", e.Message);
    }

    [Fact]
    public void Timestamps_are_written_as_the_apiserver_parses_a_MicroTime_and_read_back()
    {
        var renew = new DateTime(2026, 11, 27, 17, 1, 2, DateTimeKind.Utc).AddTicks(1234567);
        var json = JsonSerializer.Serialize(new V1Lease { Spec = new V1LeaseSpec { RenewTime = renew } }, KubeJsonContext.Default.V1Lease);
        Assert.Contains("\"renewTime\":\"2026-11-27T17:01:02.123456Z\"", json);
        var back = JsonSerializer.Deserialize(json, KubeJsonContext.Default.V1Lease)!;
        Assert.Equal(renew.AddTicks(-7), back.Spec.RenewTime);
        Assert.Equal(DateTimeKind.Utc, back.Spec.RenewTime!.Value.Kind);
    }
}
