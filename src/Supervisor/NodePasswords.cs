using System.Security.Cryptography;
using System.Text;
using System.Collections.Concurrent;
using Bulwark.Crypto;

namespace Bulwark.Supervisor;

/// <summary>The result of checking a node's password against the one recorded at its first join.</summary>
public enum NodePasswordCheck
{
    /// <summary>First join: the hash was recorded.</summary>
    Recorded,
    Matched,
    Mismatch,
}

/// <summary>
/// Per-node passwords (RKE2's node-password secret): an agent keeps a random secret in
/// <c>&lt;data-dir&gt;/agent/node-password</c>; the first join stores a salted HMAC-SHA-256 of it under the node name
/// in etcd, and a later join of the same name must present the same password. The password is 256 random bits,
/// so a fast keyed hash is enough (a slow KDF protects low-entropy secrets, and would slow every join).
/// </summary>
public sealed class NodePasswords(SupervisorDatastore store, CryptoService crypto)
{
    private const string Scheme = "hmac-sha256";
    // The stored record never changes once written; caching it saves one etcd read per certificate request.
    private readonly ConcurrentDictionary<string, byte[]> _recorded = new(StringComparer.Ordinal);

    public async Task<NodePasswordCheck> CheckAsync(string nodeName, string password, CancellationToken cancellationToken)
    {
        var key = SupervisorDatastore.NodePasswordPrefix + nodeName;
        if (!_recorded.TryGetValue(nodeName, out var stored))
        {
            // One round trip: create the record unless one exists (then etcd hands back the existing one).
            var created = Hash(password, crypto.RandomBytes(16));
            stored = await store.PutIfAbsentAsync(key, created, cancellationToken).ConfigureAwait(false);
            _recorded[nodeName] = stored;
            if (ReferenceEquals(stored, created))
            {
                return NodePasswordCheck.Recorded;
            }
        }
        return Verify(stored, password) ? NodePasswordCheck.Matched : NodePasswordCheck.Mismatch;
    }

    internal byte[] Hash(string password, byte[] salt)
    {
        var mac = crypto.Hmac(HashAlgorithmName.SHA256, salt, Encoding.UTF8.GetBytes(password));
        return Encoding.ASCII.GetBytes($"{Scheme}${Convert.ToBase64String(salt)}${Convert.ToBase64String(mac)}");
    }

    internal bool Verify(byte[] record, string password)
    {
        var parts = Encoding.ASCII.GetString(record).Split('$');
        if (parts.Length != 3 || parts[0] != Scheme)
        {
            return false;
        }
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[1]);
            expected = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = crypto.Hmac(HashAlgorithmName.SHA256, salt, Encoding.UTF8.GetBytes(password));
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
