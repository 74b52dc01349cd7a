using System.Security.Cryptography;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>A token was malformed. The message never contains the secret.</summary>
public sealed class TokenFormatException(string message) : BulwarkException(ErrorKind.Usage, message);

/// <summary>
/// The cluster join token: <c>K10&lt;sha256 hex of server-ca.crt&gt;::&lt;user&gt;:&lt;secret&gt;</c> (RKE2/k3s format; user
/// "server" for the server token, "node" for the agent token), or a bare secret. The secret is compared in
/// constant time and never printed: <see cref="ToString"/> redacts it.
/// </summary>
public sealed class ClusterToken
{
    public const string Prefix = "K10";
    public const string ServerUser = "server";
    public const string AgentUser = "node";
    private const int MaxLength = 4096;

    private ClusterToken(string? caHash, string user, string secret)
    {
        CaHash = caHash;
        User = user;
        Secret = secret;
    }

    /// <summary>The SHA-256 of the server CA certificate file (64 lower-case hex), or null for a bare secret.</summary>
    public string? CaHash { get; }
    public string User { get; }
    public string Secret { get; }

    public bool IsFull => CaHash is not null;

    /// <summary>Accepts the full form and a bare secret; anything else is a <see cref="TokenFormatException"/> saying what is wrong.</summary>
    public static ClusterToken Parse(string text)
    {
        var token = text.Trim();
        if (token.Length == 0)
        {
            throw new TokenFormatException("the token is empty");
        }
        if (token.Length > MaxLength)
        {
            throw new TokenFormatException($"the token is {token.Length} characters long; at most {MaxLength} are accepted");
        }
        if (token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new TokenFormatException("the token contains spaces or control characters; copy it again from <data-dir>/server/token");
        }
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            if (token.Contains("::", StringComparison.Ordinal))
            {
                throw new TokenFormatException($"the token contains '::' but does not start with '{Prefix}'; a full token looks like K10<64 hex characters>::server:<secret>");
            }
            return new ClusterToken(null, ServerUser, token);
        }
        var separator = token.IndexOf("::", StringComparison.Ordinal);
        if (separator < 0)
        {
            throw new TokenFormatException("the token starts with 'K10' but has no '::' after the CA hash; expected K10<64 hex characters>::server:<secret>");
        }
        var hash = token[Prefix.Length..separator];
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
        {
            throw new TokenFormatException($"the CA hash after 'K10' must be 64 hex characters (the SHA-256 of server-ca.crt); got {hash.Length} characters{(hash.All(Uri.IsHexDigit) ? "" : ", not all hex")}");
        }
        var credentials = token[(separator + 2)..];
        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        var (user, secret) = colon < 0 ? (ServerUser, credentials) : (credentials[..colon], credentials[(colon + 1)..]);
        if (user.Length == 0 || secret.Length == 0)
        {
            throw new TokenFormatException("the token has an empty user or secret after '::'; expected K10<hash>::server:<secret>");
        }
        return new ClusterToken(hash.ToLowerInvariant(), user, secret);
    }

    /// <summary>A new server token for the CA file bytes, with the given secret or a 192-bit CSPRNG one.</summary>
    public static ClusterToken Create(CryptoService crypto, ReadOnlySpan<byte> serverCaCertificateFile, string user, string? secret = null) =>
        new(CaHashOf(crypto, serverCaCertificateFile), user, secret ?? NewSecret(crypto));

    public static string NewSecret(CryptoService crypto) => Convert.ToHexStringLower(crypto.RandomBytes(24));

    public static string CaHashOf(CryptoService crypto, ReadOnlySpan<byte> serverCaCertificateFile) =>
        Convert.ToHexStringLower(crypto.Hash(HashAlgorithmName.SHA256, serverCaCertificateFile));

    public ClusterToken WithCaHash(string caHash) => new(caHash, User, Secret);

    public ClusterToken WithUser(string user) => new(CaHash, user, Secret);

    public ClusterToken WithSecret(string secret) => new(CaHash, User, secret);

    /// <summary>Constant-time comparison of the secrets (the length of a wrong guess is all that can leak).</summary>
    public bool SecretEquals(ClusterToken other) => SecretEquals(other.Secret);

    public bool SecretEquals(string secret) => SecretsEqual(Secret, secret);

    /// <summary>Constant-time comparison of two secrets.</summary>
    public static bool SecretsEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>True when this token carries no CA hash, or one equal to <paramref name="caHash"/> (constant time).</summary>
    public bool MatchesCa(string caHash) =>
        CaHash is null || CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CaHash), Encoding.ASCII.GetBytes(caHash.ToLowerInvariant()));

    /// <summary>The full form, for the token file only. Never log it.</summary>
    public string Reveal() => IsFull ? $"{Prefix}{CaHash}::{User}:{Secret}" : Secret;

    public override string ToString() => IsFull ? $"{Prefix}{CaHash}::{User}:<redacted>" : "<redacted>";
}
