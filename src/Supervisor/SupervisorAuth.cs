using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Bulwark.Supervisor;

/// <summary>Who a request authenticated as.</summary>
public enum SupervisorRole
{
    None,

    /// <summary><c>server:&lt;token secret&gt;</c>: another server (bootstrap data, etcd membership).</summary>
    Server,

    /// <summary><c>node:&lt;agent-token secret&gt;</c>: an agent (config, node certificates). Servers may do this too.</summary>
    Node,
}

/// <summary>The user and secret of an HTTP Basic Authorization header. Never logged.</summary>
public readonly record struct BasicCredentials(string User, string Secret)
{
    public const int MaxHeaderLength = 4096;

    /// <summary>Parses "Basic base64(user:secret)"; null when missing or malformed.</summary>
    public static BasicCredentials? Parse(string? header)
    {
        if (header is null || header.Length > MaxHeaderLength || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        Span<byte> decoded = stackalloc byte[MaxHeaderLength];
        if (!Convert.TryFromBase64String(header[6..].Trim(), decoded, out var length))
        {
            return null;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(decoded[..length]);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 ? null : new BasicCredentials(text[..colon], text[(colon + 1)..]);
    }

    public string ToHeaderValue() => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Secret}"));

    public override string ToString() => $"{User}:<redacted>";
}

/// <summary>
/// Checks Basic credentials against the server and agent secrets in constant time (both secrets are always
/// compared, so the time does not say which user name was right).
/// </summary>
public sealed class SupervisorAuthenticator
{
    private readonly byte[] _serverSecret;
    private readonly byte[] _agentSecret;

    public SupervisorAuthenticator(string serverSecret, string agentSecret)
    {
        if (serverSecret.Length == 0 || agentSecret.Length == 0)
        {
            throw new ArgumentException("the supervisor needs non-empty server and agent secrets");
        }
        // Compare fixed-length digests so a wrong guess's length does not show in the timing either.
        _serverSecret = SHA256.HashData(Encoding.UTF8.GetBytes(serverSecret));
        _agentSecret = SHA256.HashData(Encoding.UTF8.GetBytes(agentSecret));
    }

    public SupervisorRole Authenticate(BasicCredentials? credentials)
    {
        if (credentials is not { } c)
        {
            return SupervisorRole.None;
        }
        Span<byte> offered = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(c.Secret), offered);
        var serverMatch = CryptographicOperations.FixedTimeEquals(offered, _serverSecret);
        var agentMatch = CryptographicOperations.FixedTimeEquals(offered, _agentSecret);
        return c.User switch
        {
            "server" when serverMatch => SupervisorRole.Server,
            "node" when agentMatch || serverMatch => SupervisorRole.Node,
            _ => SupervisorRole.None,
        };
    }
}

/// <summary>
/// Limits failed authentications per source address with a token bucket: <c>burst</c> failures, then one more per
/// <c>refill</c>. While an address has no tokens left, its authenticated requests get 429 without their credentials
/// being looked at, so a guessing flood is never accepted even when a guess is right.
/// </summary>
public sealed class FailedAuthLimiter(int burst, TimeSpan refill, TimeProvider clock)
{
    private const int MaxTracked = 65_536;
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];
    private readonly Lock _gate = new();

    public static FailedAuthLimiter Default(TimeProvider clock) => new(10, TimeSpan.FromSeconds(1), clock);

    public bool IsBlocked(IPAddress address)
    {
        lock (_gate)
        {
            return _buckets.TryGetValue(address, out var bucket) && Refill(bucket) < 1;
        }
    }

    /// <summary>Records a failure; returns true when the address is now blocked.</summary>
    public bool RecordFailure(IPAddress address)
    {
        lock (_gate)
        {
            if (!_buckets.TryGetValue(address, out var bucket))
            {
                if (_buckets.Count >= MaxTracked)
                {
                    Prune();
                }
                bucket = new Bucket { Tokens = burst, Updated = clock.GetTimestamp() };
                _buckets[address] = bucket;
            }
            var tokens = Refill(bucket);
            bucket.Tokens = Math.Max(0, tokens - 1);
            return bucket.Tokens < 1;
        }
    }

    /// <summary>Seconds until the address may try again (for Retry-After).</summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(refill.TotalSeconds));

    private double Refill(Bucket bucket)
    {
        var now = clock.GetTimestamp();
        var elapsed = clock.GetElapsedTime(bucket.Updated, now);
        bucket.Tokens = Math.Min(burst, bucket.Tokens + elapsed / refill);
        bucket.Updated = now;
        return bucket.Tokens;
    }

    private void Prune()
    {
        foreach (var (address, bucket) in _buckets.ToList())
        {
            if (Refill(bucket) >= burst)
            {
                _buckets.Remove(address);
            }
        }
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }
        public long Updated { get; set; }
    }
}
