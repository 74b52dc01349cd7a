using System.Security.Cryptography;
using Bulwark.Pki;
using FsCheck;
using FsCheck.Fluent;

namespace Bulwark.Tests.Pki;

public sealed class ClusterTokenTests
{
    private static readonly string Hash = new('a', 64);

    [Fact]
    public void The_full_form_is_parsed()
    {
        var token = ClusterToken.Parse($"K10{Hash.ToUpperInvariant()}::server:s3cret\n");
        Assert.Equal(Hash, token.CaHash);
        Assert.Equal("server", token.User);
        Assert.Equal("s3cret", token.Secret);
        Assert.Equal($"K10{Hash}::server:s3cret", token.Reveal());
    }

    [Fact]
    public void A_bare_secret_is_accepted()
    {
        var token = ClusterToken.Parse("my-shared-secret");
        Assert.False(token.IsFull);
        Assert.Null(token.CaHash);
        Assert.Equal("my-shared-secret", token.Secret);
        Assert.True(token.MatchesCa(Hash));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("K10abc::server:topsecretvalue", "64 hex characters")]
    [InlineData("K10gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg::server:topsecretvalue", "not all hex")]
    [InlineData("K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaserver:topsecretvalue", "no '::'")]
    [InlineData("K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:", "empty user or secret")]
    [InlineData("X10aaaa::server:topsecretvalue", "does not start with 'K10'")]
    [InlineData("top secretvalue", "spaces")]
    public void A_malformed_token_is_a_clear_error_that_does_not_echo_the_secret(string text, string expected)
    {
        var e = Assert.Throws<TokenFormatException>(() => ClusterToken.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecretvalue", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_never_shows_the_secret()
    {
        var token = ClusterToken.Parse($"K10{Hash}::server:hunter2hunter2");
        Assert.DoesNotContain("hunter2", token.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", $"{ClusterToken.Parse("hunter2hunter2")}", StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_and_ca_hashes_compare_by_value()
    {
        var a = ClusterToken.Parse($"K10{Hash}::server:abc123");
        Assert.True(a.SecretEquals(ClusterToken.Parse("abc123")));
        Assert.False(a.SecretEquals(ClusterToken.Parse("abc124")));
        Assert.False(a.SecretEquals("abc12"));
        Assert.True(a.MatchesCa(Hash.ToUpperInvariant()));
        Assert.False(a.MatchesCa(new string('b', 64)));
    }

    [Fact]
    public void A_created_token_carries_the_sha256_of_the_ca_file_and_a_192_bit_secret()
    {
        var caFile = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"u8.ToArray();
        var token = ClusterToken.Create(TestPki.Crypto, caFile, ClusterToken.ServerUser);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(caFile)), token.CaHash);
        Assert.Matches("^[0-9a-f]{48}$", token.Secret);
        Assert.NotEqual(token.Secret, ClusterToken.Create(TestPki.Crypto, caFile, ClusterToken.ServerUser).Secret);
    }

    [Fact]
    public void Any_valid_full_token_round_trips_through_its_text()
    {
        var secrets = Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:+/=".ToCharArray())
            .NonEmptyListOf().Select(cs => new string([.. cs]));
        Prop.ForAll(secrets.ToArbitrary(), secret =>
        {
            var token = ClusterToken.Parse($"K10{Hash}::server:{secret}");
            return token.Secret == secret && ClusterToken.Parse(token.Reveal()).SecretEquals(token);
        }).QuickCheckThrowOnFailure();
    }
}
