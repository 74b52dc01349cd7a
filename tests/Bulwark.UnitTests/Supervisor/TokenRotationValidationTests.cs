using Bulwark.Diagnostics;
using Bulwark.Pki;
using Bulwark.Supervisor;

namespace Bulwark.Tests.Supervisor;

/// <summary>The new token's checks and the local token-file rewrite of <see cref="TokenRotation"/> (the etcd part runs in TokenRotationTests).</summary>
public sealed class TokenRotationValidationTests : IDisposable
{
    private static readonly string CaHash = new('a', 64);
    private static readonly ClusterToken Old = ClusterToken.Parse($"K10{CaHash}::server:old-secret-0123456789");
    private readonly TempDirectory _dir = new("bulwark-token-files");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("short-1234", "too weak")]
    [InlineData("abababababababababab", "too weak")]
    [InlineData("old-secret-0123456789", "equals the current token")]
    [InlineData("K10bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb::server:new-secret-0123456789", "not this cluster's server CA")]
    [InlineData("K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::node:new-secret-0123456789", "the user must be 'server'")]
    [InlineData("has space in-it-0123456789", "spaces or control characters")]
    public void A_bad_new_token_is_a_usage_error_naming_the_problem_without_the_secret(string text, string expected)
    {
        var e = Assert.Throws<BulwarkException>(() => TokenRotation.ValidateNew(text, Old, CaHash));
        Assert.Equal(ErrorKind.Usage, e.Kind);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("0123456789", e.Message);
    }

    [Fact]
    public void A_strong_new_token_is_accepted_bare_or_in_full_form()
    {
        Assert.Equal("new-secret-0123456789", TokenRotation.ValidateNew("new-secret-0123456789", Old, CaHash).Secret);
        Assert.Equal("new-secret-0123456789", TokenRotation.ValidateNew($"K10{CaHash}::server:new-secret-0123456789", Old, CaHash).Secret);
    }

    [Fact]
    public void Token_files_holding_the_old_secret_are_rewritten_0600_with_their_hash_and_user_kept_and_others_left_alone()
    {
        var paths = new ServerPkiPaths(_dir.Path);
        Directory.CreateDirectory(paths.ServerDirectory);
        File.WriteAllText(paths.Token, Old.Reveal() + "\n");
        File.SetUnixFileMode(paths.Token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.WriteAllText(paths.AgentToken, $"K10{CaHash}::node:separate-agent-secret\n");

        var updated = TokenRotation.UpdateTokenFiles(paths, Old.Secret, "new-secret-0123456789");

        Assert.Equal([paths.Token], updated);
        Assert.Equal($"K10{CaHash}::server:new-secret-0123456789\n", File.ReadAllText(paths.Token));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.Token));
        Assert.Equal($"K10{CaHash}::node:separate-agent-secret\n", File.ReadAllText(paths.AgentToken));
    }
}
