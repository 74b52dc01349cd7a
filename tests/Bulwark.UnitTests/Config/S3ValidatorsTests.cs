using Bulwark.Config;

namespace Bulwark.Tests.Config;

/// <summary>The per-value checks of RKE2's etcd-s3-* keys, and Go-style durations (RKE2 prints etcd-s3-timeout as 5m0s).</summary>
public sealed class S3ValidatorsTests
{
    [Theory]
    [InlineData("s3.amazonaws.com", null)]
    [InlineData("minio.example:9000", null)]
    [InlineData("127.0.0.1:9000", null)]
    [InlineData("https://minio.example:9000", "without a scheme, e.g. minio.example:9000")]
    [InlineData("http://minio.example/", "without a scheme, e.g. minio.example;")]
    [InlineData("minio.example/bucket", "expected host[:port]")]
    [InlineData("", "expected host[:port]")]
    public void S3_endpoints_are_host_and_port_only(string value, string? error)
    {
        var problem = Validators.S3Endpoint(value);
        if (error is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(error, problem, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("cluster-a/etcd", true)]
    [InlineData("/cluster-a", false)]
    [InlineData("cluster-a/", false)]
    [InlineData("a/../b", false)]
    public void S3_folders_are_relative_prefixes(string value, bool valid) => Assert.Equal(valid, Validators.S3Folder(value) is null);

    [Theory]
    [InlineData("", true)]
    [InlineData("none", true)]
    [InlineData("http://proxy.example:3128", true)]
    [InlineData("proxy.example:3128", false)]
    [InlineData("socks5://proxy.example:1080", false)]
    public void S3_proxies_name_scheme_and_host(string value, bool valid) => Assert.Equal(valid, Validators.ProxyUrl(value) is null);

    [Theory]
    [InlineData("5m", 300)]
    [InlineData("5m0s", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("90s", 90)]
    public void Durations_read_as_go_writes_them(string value, int seconds)
    {
        Assert.True(Validators.TryParseDuration(value, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("m5")]
    [InlineData("5m 0s")]
    [InlineData("")]
    public void Anything_else_is_not_a_duration(string value) => Assert.False(Validators.TryParseDuration(value, out _));
}
