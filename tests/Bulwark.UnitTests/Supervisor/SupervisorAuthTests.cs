using System.Net;
using System.Text;
using Bulwark.Supervisor;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Supervisor;

public sealed class SupervisorAuthTests
{
    [Fact]
    public void Basic_credentials_round_trip_and_secrets_are_redacted_in_ToString()
    {
        var credentials = new BasicCredentials("node", "s3cr:et");
        var parsed = BasicCredentials.Parse(credentials.ToHeaderValue());
        Assert.Equal(credentials, parsed);
        Assert.Equal("node:<redacted>", parsed.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer abc")]
    [InlineData("Basic !!!notbase64")]
    [InlineData("Basic Zm9v")] // "foo": no colon
    [InlineData("Basic OnNlY3JldA==")] // ":secret": empty user
    [InlineData("Basic //79")] // not UTF-8
    public void Malformed_authorization_headers_are_no_credentials(string? header) => Assert.Null(BasicCredentials.Parse(header));

    [Fact]
    public void Parsing_arbitrary_headers_never_throws()
    {
        Prop.ForAll<string>(header => BasicCredentials.Parse(header) is null or { User.Length: > 0 })
            .Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000));
        Prop.ForAll<byte[]>(bytes => BasicCredentials.Parse("Basic " + Convert.ToBase64String(bytes)) is null or { User.Length: > 0 })
            .Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000));
    }

    [Fact]
    public void Roles_follow_user_and_secret()
    {
        var auth = new SupervisorAuthenticator("server-secret", "agent-secret");
        Assert.Equal(SupervisorRole.Server, auth.Authenticate(new BasicCredentials("server", "server-secret")));
        Assert.Equal(SupervisorRole.Node, auth.Authenticate(new BasicCredentials("node", "agent-secret")));
        // Servers may act as nodes (a server is also a node); agents may never act as servers.
        Assert.Equal(SupervisorRole.Node, auth.Authenticate(new BasicCredentials("node", "server-secret")));
        Assert.Equal(SupervisorRole.None, auth.Authenticate(new BasicCredentials("server", "agent-secret")));
        Assert.Equal(SupervisorRole.None, auth.Authenticate(new BasicCredentials("admin", "server-secret")));
        Assert.Equal(SupervisorRole.None, auth.Authenticate(new BasicCredentials("server", "server-secre")));
        Assert.Equal(SupervisorRole.None, auth.Authenticate(null));
        Assert.Throws<ArgumentException>(() => new SupervisorAuthenticator("", "x"));
    }

    [Fact]
    public void Failed_auth_limiter_blocks_after_the_burst_and_refills_with_time()
    {
        var clock = new FakeTimeProvider();
        var limiter = new FailedAuthLimiter(3, TimeSpan.FromSeconds(10), clock);
        var attacker = IPAddress.Parse("10.0.0.66");
        var other = IPAddress.Parse("10.0.0.7");
        Assert.False(limiter.IsBlocked(attacker));
        Assert.False(limiter.RecordFailure(attacker));
        Assert.False(limiter.RecordFailure(attacker));
        Assert.True(limiter.RecordFailure(attacker));
        Assert.True(limiter.IsBlocked(attacker));
        Assert.False(limiter.IsBlocked(other));
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(limiter.IsBlocked(attacker));
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.False(limiter.IsBlocked(attacker));
        Assert.True(limiter.RecordFailure(attacker));
        Assert.Equal(10, limiter.RetryAfterSeconds);
    }
}
