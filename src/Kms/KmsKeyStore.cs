using System.Security.Cryptography;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.FileSystem;

namespace Bulwark.Kms;

/// <summary>
/// The keyring on disk (server/cred/kms/): keyring.json plus one protected entry per key. Creating and rotating write
/// the protected key first and the manifest last (atomically), so a crash never leaves a manifest naming a lost key.
/// </summary>
public sealed class KmsKeyStore(string folder, KeyProtection protection, CryptoService crypto, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Folder => folder;

    public string ManifestPath => Path.Combine(folder, "keyring.json");

    public bool Exists => File.Exists(ManifestPath);

    public KmsKeyringManifest ReadManifest()
    {
        if (!Exists)
        {
            throw new KmsKeyringException($"{ManifestPath} does not exist: start bulwark server with secrets-encryption-provider: kms to create the keyring");
        }
        KmsKeyringManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllText(ManifestPath), KmsJsonContext.Default.KmsKeyringManifest);
        }
        catch (JsonException e)
        {
            throw new KmsKeyringException($"{ManifestPath}: unreadable keyring manifest ({e.Message}); restore it from a backup of server/cred/kms/", e);
        }
        if (manifest is null || manifest.Keys is not { Count: > 0 } || manifest.Keys.All(k => k.Id != manifest.Current))
        {
            throw new KmsKeyringException($"{ManifestPath}: the keyring must list at least one key and name the current one among them; restore it from a backup");
        }
        return manifest;
    }

    /// <summary>The protector of an existing keyring (its kind and PCRs are fixed when it is created).</summary>
    public IKeyProtector Protector(KmsKeyringManifest manifest) => protection.Create(manifest.Protection, folder, manifest.TpmPcrs);

    /// <summary>Creates the keyring with one fresh key when there is none. Returns true if created.</summary>
    public async Task<bool> EnsureAsync(CancellationToken cancellationToken)
    {
        if (Exists)
        {
            ReadManifest();
            return false;
        }
        var kind = protection.Resolve();
        var pcrs = kind == KeyProtection.Tpm ? protection.Pcrs : "";
        await AddKeyAsync(new KmsKeyringManifest(kind, pcrs, "", []), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>A new current key; every earlier key stays retained so what it encrypted still decrypts.</summary>
    public async Task<KmsKeyringManifest> RotateAsync(CancellationToken cancellationToken) =>
        await AddKeyAsync(ReadManifest(), cancellationToken).ConfigureAwait(false);

    /// <summary>Unseals every retained key and checks each against its id (a wrong key is caught before it encrypts).</summary>
    public async Task<KmsKeyring> LoadAsync(CancellationToken cancellationToken)
    {
        var manifest = ReadManifest();
        var protector = Protector(manifest);
        var keys = new List<KeyEncryptionKey>();
        try
        {
            foreach (var entry in manifest.Keys)
            {
                var key = KeyEncryptionKey.FromBytes(crypto, await protector.UnprotectAsync(entry.Id, cancellationToken).ConfigureAwait(false));
                keys.Add(key);
                if (key.Id != entry.Id)
                {
                    throw new KmsKeyringException($"{string.Join(", ", protector.FilesOf(entry.Id))}: holds a key whose id is {key.Id}, not {entry.Id}; restore server/cred/kms/ from a backup");
                }
            }
            return new KmsKeyring(keys, manifest.Current);
        }
        catch
        {
            keys.ForEach(k => k.Dispose());
            throw;
        }
    }

    /// <summary>The loaded keys as JSON for the sealed bootstrap data (see <see cref="KmsKeyringExport"/>).</summary>
    public static string Export(KmsKeyring keyring, KmsKeyringManifest manifest) =>
        JsonSerializer.Serialize(new KmsKeyringExport(manifest.Current, manifest.Keys
            .Where(k => keyring.Find(k.Id) is not null)
            .Select(k => new KmsExportedKey(k.Id, k.Created, Convert.ToBase64String(keyring.Find(k.Id)!.Material)))
            .ToList()), KmsJsonContext.Default.KmsKeyringExport);

    /// <summary>
    /// The union of two exported keyrings (the cluster's copy, when there is one, and this server's), whose current key is
    /// the newer of the two current keys: so a rotation on any server, even one made while the cluster could not be
    /// reached, wins over the key it replaced, and no key either side retains is lost.
    /// </summary>
    public static string Merge(string? cluster, string local)
    {
        var mine = ParseExport(local);
        if (cluster is null)
        {
            return local;
        }
        var theirs = ParseExport(cluster);
        var keys = mine.Keys.Concat(theirs.Keys.Where(k => mine.Keys.All(m => m.Id != k.Id))).OrderByDescending(k => k.Created).ToList();
        var current = new[] { mine.Current, theirs.Current }.MaxBy(id => keys.First(k => k.Id == id).Created)!;
        return JsonSerializer.Serialize(new KmsKeyringExport(current, keys), KmsJsonContext.Default.KmsKeyringExport);
    }

    private static KmsKeyringExport ParseExport(string export)
    {
        KmsKeyringExport? received;
        try
        {
            received = JsonSerializer.Deserialize(export, KmsJsonContext.Default.KmsKeyringExport);
        }
        catch (JsonException e)
        {
            throw new KmsKeyringException($"the cluster's KMS keyring in the bootstrap data is unreadable ({e.Message}); is the other server the same Bulwark version?", e);
        }
        if (received is null || received.Keys.All(k => k.Id != received.Current))
        {
            throw new KmsKeyringException("the cluster's KMS keyring in the bootstrap data names no current key");
        }
        return received;
    }

    /// <summary>
    /// Seals here every key of a cluster's exported keyring this server lacks (each checked against its id) and makes
    /// the newer of the two current keys current. Keys only this server has stay retained. Returns how many were added.
    /// </summary>
    public async Task<int> ImportAsync(string export, CancellationToken cancellationToken)
    {
        var received = ParseExport(export);
        var manifest = Exists ? ReadManifest() : new KmsKeyringManifest(protection.Resolve(), protection.Resolve() == KeyProtection.Tpm ? protection.Pcrs : "", "", []);
        var protector = Protector(manifest);
        AtomicFile.EnsureDirectory(folder, AtomicFile.PrivateDirectory);
        var added = 0;
        foreach (var entry in received.Keys.Where(k => manifest.Keys.All(m => m.Id != k.Id)))
        {
            using var key = KeyEncryptionKey.FromBytes(crypto, Convert.FromBase64String(entry.Key));
            if (key.Id != entry.Id)
            {
                throw new KmsKeyringException($"the cluster's KMS key {entry.Id} does not match its id (got {key.Id}); the bootstrap data is damaged");
            }
            var material = key.Material.ToArray();
            try
            {
                await protector.ProtectAsync(key.Id, material, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
            added++;
        }
        // The newer current key wins, as in Merge: a rotation made here and not yet published is not undone.
        var localCurrent = manifest.Keys.FirstOrDefault(k => k.Id == manifest.Current);
        var merged = manifest with
        {
            Current = localCurrent is not null && localCurrent.Created > received.Keys.First(k => k.Id == received.Current).Created ? localCurrent.Id : received.Current,
            Keys = [.. received.Keys.Select(k => new KmsKeyEntry(k.Id, k.Created)), .. manifest.Keys.Where(m => received.Keys.All(k => k.Id != m.Id))],
        };
        if (added > 0 || merged.Current != manifest.Current)
        {
            AtomicFile.WriteAllText(ManifestPath, JsonSerializer.Serialize(merged, KmsJsonContext.Default.KmsKeyringManifest) + "\n", AtomicFile.Private);
        }
        return added;
    }

    private async Task<KmsKeyringManifest> AddKeyAsync(KmsKeyringManifest manifest, CancellationToken cancellationToken)
    {
        AtomicFile.EnsureDirectory(folder, AtomicFile.PrivateDirectory);
        using var key = KeyEncryptionKey.Generate(crypto);
        var material = key.Material.ToArray();
        try
        {
            await Protector(manifest).ProtectAsync(key.Id, material, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
        var updated = manifest with { Current = key.Id, Keys = [new KmsKeyEntry(key.Id, _time.GetUtcNow()), .. manifest.Keys] };
        AtomicFile.WriteAllText(ManifestPath, JsonSerializer.Serialize(updated, KmsJsonContext.Default.KmsKeyringManifest) + "\n", AtomicFile.Private);
        return updated;
    }
}
