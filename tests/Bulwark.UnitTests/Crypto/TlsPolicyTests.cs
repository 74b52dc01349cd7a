using System.Net.Security;
using System.Security.Authentication;
using Bulwark.Crypto;

namespace Bulwark.Tests.Crypto;

public sealed class TlsPolicyTests
{
    private readonly TlsPolicy _policy = TlsPolicy.BuiltIn;

    [Fact]
    public void The_go_suite_list_is_ecdhe_with_aes_gcm_only()
    {
        Assert.Equal(
            ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
            _policy.GoCipherSuites);
        Assert.All(_policy.GoCipherSuites.Concat(_policy.Tls13Suites.Select(s => s.ToString())), s =>
        {
            Assert.Contains("_GCM_", s, StringComparison.Ordinal);
            Assert.DoesNotContain("CHACHA", s, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void One_policy_drives_the_etcd_and_kubernetes_flags()
    {
        var list = string.Join(',', _policy.GoCipherSuites);
        Assert.Equal([$"--cipher-suites={list}"], _policy.EtcdArguments());
        Assert.Equal([$"--tls-cipher-suites={list}", "--tls-min-version=VersionTLS12"], _policy.KubernetesArguments());
    }

    [Fact]
    public void Dotnet_client_and_server_options_get_tls12_plus_and_the_suite_list()
    {
        var client = _policy.Apply(new SslClientAuthenticationOptions());
        var server = _policy.Apply(new SslServerAuthenticationOptions());
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, client.EnabledSslProtocols);
        Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, server.EnabledSslProtocols);
        Assert.Equal(_policy.Tls12Suites.Concat(_policy.Tls13Suites), client.CipherSuitesPolicy!.AllowedCipherSuites!);
        Assert.Equal(_policy.Tls12Suites.Concat(_policy.Tls13Suites), server.CipherSuitesPolicy!.AllowedCipherSuites!);
    }

    [Fact]
    public void Every_connection_shares_one_cipher_suite_policy_instead_of_building_an_openssl_context_for_each()
    {
        var first = _policy.Apply(new SslServerAuthenticationOptions()).CipherSuitesPolicy;
        Assert.Same(first, _policy.Apply(new SslClientAuthenticationOptions()).CipherSuitesPolicy);
        Assert.Same(first, _policy.CipherSuitesPolicy);
    }

    [Fact]
    public void The_policy_names_its_controls()
    {
        Assert.Contains("STIG V-242418", _policy.Controls);
        Assert.Contains("800-52", _policy.Rule, StringComparison.Ordinal);
    }
}
