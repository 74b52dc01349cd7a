using System.Security.Cryptography;
using System.Text;
using System.Collections.Concurrent;
using Bulwark.Crypto;
using Bulwark.FileSystem;

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

    /// <summary>A node's random value from its file (its password, its id), or a new one (hex) written 0600 when there is none.</summary>
    public static string ReadOrCreate(CryptoService crypto, string path, int bytes = 32)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }
        AtomicFile.EnsureDirectory(Path.GetDirectoryName(path)!, AtomicFile.PrivateDirectory);
        var value = Convert.ToHexStringLower(crypto.RandomBytes(bytes));
        AtomicFile.WriteAllText(path, value + "\n", AtomicFile.Private);
        return value;
    }

    /// <summary>
    /// A server reserves its own node name when its supervisor starts, so that no agent-token holder can claim it
    /// (and obtain a kubelet certificate for system:node:&lt;server&gt;) by being first to present a password.
    /// </summary>
    public async Task RegisterOwnAsync(string nodeName, string passwordFile, CancellationToken cancellationToken)
    {
        var password = ReadOrCreate(crypto, passwordFile);
        if (await CheckAsync(nodeName, password, cancellationToken).ConfigureAwait(false) == NodePasswordCheck.Mismatch)
        {
            throw new Pki.PkiException($"node name '{nodeName}' is already registered in this cluster with another node password (another host joined " +
                $"under this name, or {passwordFile} was lost). Give this server another node-name, or restore its {passwordFile}.");
        }
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
