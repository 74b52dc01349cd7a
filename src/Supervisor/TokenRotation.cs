using System.Security.Cryptography;
using System.Text;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.FileSystem;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>What <see cref="TokenRotation.RotateAsync"/> changed (paths only; never a secret).</summary>
public sealed record TokenRotationResult(string BootstrapKey, IReadOnlyList<string> UpdatedFiles);

/// <summary>
/// Server token rotation (RKE2's <c>token rotate</c>). The bootstrap data stored in etcd under the old token's key is
/// re-sealed with the new token and moved to the new token's key in one txn guarded on the old value, together with a
/// rotation record (the new secret sealed with the old one, under the old secret's hash). Running servers follow the
/// record (<see cref="CurrentSecretAsync"/>): they switch to the new token, rewrite their token files and refuse the old
/// one; a server that was down during the rotation follows it when it starts. The record is readable only with etcd's
/// client certificate, which already opens every cluster secret; it is never served by the supervisor.
/// </summary>
public sealed class TokenRotation(CryptoService crypto)
{
    public const string RecordPrefix = "/bulwark/token-rotations/";
    public const int MinimumSecretLength = 16;
    public const int MinimumDistinctCharacters = 6;
    private const int MaxHops = 64;

    /// <summary>The etcd key of the rotation record left when <paramref name="oldSecret"/> was replaced.</summary>
    public string RecordKey(string oldSecret) =>
        RecordPrefix + Convert.ToHexStringLower(crypto.Hash(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(oldSecret)));

    /// <summary>
    /// Verifies <paramref name="oldText"/> against this server's token file (constant time), validates the new token,
    /// moves the sealed bootstrap data to the new token in one etcd txn, then rewrites the local token files (0600, atomic).
    /// Nothing is changed when a check fails.
    /// </summary>
    public async Task<TokenRotationResult> RotateAsync(EtcdClient etcd, ServerPkiPaths paths, string oldText, string newText, CancellationToken cancellationToken)
    {
        using var held = await RotationLock.AcquireAsync(paths.DataDir, cancellationToken).ConfigureAwait(false);
        var stored = TokenSource.ParseFile(paths.Token, "the server token file");
        var old = Parse(oldText, "--token");
        var caHash = stored.CaHash ?? ClusterToken.CaHashOf(crypto, File.ReadAllBytes(paths.ServerCa.Certificate));
        if (!stored.SecretEquals(old) || !old.MatchesCa(caHash))
        {
            throw new BulwarkException(ErrorKind.Refused, $"--token is not this cluster's current server token (checked against {paths.Token}). " +
                "Give the token the servers were started with (the content of that file). Nothing was changed.");
        }
        var fresh = ValidateNew(newText, old, caHash);
        var oldKey = BootstrapData.StorageKey(crypto, old.Secret);
        var sealedOld = await etcd.GetAsync(oldKey, cancellationToken).ConfigureAwait(false);
        if (sealedOld is null)
        {
            var rotated = await etcd.GetAsync(RecordKey(old.Secret), cancellationToken).ConfigureAwait(false) is not null;
            throw new BulwarkException(ErrorKind.Refused, rotated
                ? "this token was already rotated (on this or another server); this server's token file is updated by its running bulwark server within seconds. Nothing was changed."
                : $"etcd holds no bootstrap data for this token ({oldKey} is absent); start bulwark server on this node first. Nothing was changed.");
        }
        var sealer = new TokenSealer(crypto);
        var bundle = BootstrapData.Unseal(sealedOld, sealer, old.Secret);
        var newKey = BootstrapData.StorageKey(crypto, fresh.Secret);
        var secretBytes = Encoding.UTF8.GetBytes(fresh.Secret);
        byte[] record;
        try
        {
            record = sealer.Seal(secretBytes, old.Secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
        }
        var applied = await etcd.ReplaceIfUnchangedAsync(oldKey,
            sealedOld,
            [new(newKey, BootstrapData.Seal(bundle, sealer, fresh.Secret)), new(RecordKey(old.Secret), record)],
            cancellationToken).ConfigureAwait(false);
        if (!applied)
        {
            throw new BulwarkException(ErrorKind.Refused, "the bootstrap data changed in etcd while it was being re-sealed (another rotation at the same time?); " +
                "run bulwark token rotate again with the token that is current now. Nothing was changed.");
        }
        return new TokenRotationResult(newKey, UpdateTokenFiles(paths, old.Secret, fresh.Secret));
    }

    /// <summary>
    /// The token that is current for a node holding <paramref name="secret"/>: follows the rotation records from it
    /// (each opened with the previous secret). Returns <paramref name="secret"/> when it was never rotated.
    /// </summary>
    public async Task<string> CurrentSecretAsync(EtcdClient etcd, string secret, CancellationToken cancellationToken)
    {
        var sealer = new TokenSealer(crypto);
        for (var hop = 0; hop < MaxHops; hop++)
        {
            var record = await etcd.GetAsync(RecordKey(secret), cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return secret;
            }
            var next = sealer.Unseal(record, secret);
            try
            {
                secret = Encoding.UTF8.GetString(next);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(next);
            }
        }
        throw new BulwarkException(ErrorKind.Refused, $"more than {MaxHops} token rotations follow this server's token; the records under {RecordPrefix} are damaged. Restore etcd from a snapshot.");
    }

    /// <summary>
    /// Rewrites this node's token files from <paramref name="oldSecret"/> to <paramref name="newSecret"/> (keeping the CA
    /// hash and user): server/token, and server/agent-token when it holds the same secret. Atomic, 0600.
    /// </summary>
    public static IReadOnlyList<string> UpdateTokenFiles(ServerPkiPaths paths, string oldSecret, string newSecret)
    {
        var updated = new List<string>();
        foreach (var (path, what) in new[] { (paths.Token, "the server token file"), (paths.AgentToken, "the agent token file") })
        {
            if (!File.Exists(path))
            {
                continue;
            }
            var token = TokenSource.ParseFile(path, what);
            if (token.SecretEquals(oldSecret))
            {
                AtomicFile.WriteAllText(path, token.WithSecret(newSecret).Reveal() + "\n", AtomicFile.Private);
                updated.Add(path);
            }
        }
        return updated;
    }

    /// <summary>The new token: a valid token of this cluster (its CA hash, user "server"), strong enough, and not the old one.</summary>
    public static ClusterToken ValidateNew(string text, ClusterToken old, string caHash)
    {
        var token = Parse(text, "--new-token");
        if (token.IsFull && !token.MatchesCa(caHash))
        {
            throw new BulwarkException(ErrorKind.Usage, "--new-token: its CA hash (after K10) is not this cluster's server CA; give the bare secret, or K10<this cluster's CA hash>::server:<secret>. Nothing was changed.");
        }
        if (token.User != ClusterToken.ServerUser)
        {
            throw new BulwarkException(ErrorKind.Usage, $"--new-token: the user must be '{ClusterToken.ServerUser}' (got '{token.User}'); this rotates the server token. Nothing was changed.");
        }
        if (token.Secret.Length < MinimumSecretLength || token.Secret.Distinct().Count() < MinimumDistinctCharacters)
        {
            throw new BulwarkException(ErrorKind.Usage, $"--new-token is too weak: use at least {MinimumSecretLength} characters with at least {MinimumDistinctCharacters} different ones " +
                "(e.g. `openssl rand -hex 24`). Nothing was changed.");
        }
        if (token.SecretEquals(old))
        {
            throw new BulwarkException(ErrorKind.Usage, "--new-token equals the current token; choose a new secret. Nothing was changed.");
        }
        return token;
    }

    private static ClusterToken Parse(string text, string flag)
    {
        try
        {
            return ClusterToken.Parse(text);
        }
        catch (TokenFormatException e)
        {
            throw new BulwarkException(ErrorKind.Usage, $"{flag}: {e.Message}. Nothing was changed.", e);
        }
    }
}
