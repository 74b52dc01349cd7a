using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bulwark.Crypto;
using Bulwark.FileSystem;
using Bulwark.Pki;

namespace Bulwark.Supervisor;

/// <summary>
/// The cluster's shared secrets that every server needs the same copy of: the CAs (certificates and keys), the
/// service-account keys (current and retired), and the encryption config. Sealed with the token secret before they leave a server, and the
/// same sealed blob is stored in etcd under a key derived from the token hash.
/// </summary>
public static class BootstrapData
{
    /// <summary>Files relative to the data dir. The CAs are required; the others are included when present.</summary>
    public static IReadOnlyList<string> RequiredFiles { get; } = PkiCatalog.Cas
        .SelectMany(ca => new[] { $"server/tls/{ca.Stem}.crt", $"server/tls/{ca.Stem}.key" })
        .Append("server/tls/service.key")
        .ToList();

    public static IReadOnlyList<string> OptionalFiles { get; } =
        ["server/tls/service.current.key", "server/cred/encryption-config.json", "server/cred/passwd", .. PkiCatalog.Cas.Select(CaRotation.NextKey)];

    /// <summary>The KMS plugin's key-encryption keys, exported from memory: never written as a file; each server seals them itself.</summary>
    public const string KmsKeyringEntry = "kms/keyring";

    /// <summary>Entries held in memory only (handed to their capability, never written by <see cref="WriteTo"/>).</summary>
    public static IReadOnlyList<string> MemoryEntries { get; } = [KmsKeyringEntry];

    public static BootstrapBundle Collect(string dataDir, IReadOnlyDictionary<string, string>? memoryEntries = null)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var relative in RequiredFiles)
        {
            var path = Path.Combine(dataDir, relative);
            if (!File.Exists(path))
            {
                throw new PkiException($"{path} is missing; it is part of the cluster's shared PKI that joining servers receive. Start this server once without --server so its PKI is created.");
            }
            files[relative] = File.ReadAllText(path);
        }
        foreach (var relative in OptionalFiles.Where(r => File.Exists(Path.Combine(dataDir, r))).Concat(ServiceAccountKeys.Retired(dataDir).Select(r => r.RelativePath)))
        {
            files[relative] = File.ReadAllText(Path.Combine(dataDir, relative));
        }
        foreach (var (name, content) in memoryEntries ?? new Dictionary<string, string>())
        {
            files[MemoryEntries.Contains(name) ? name : throw new ArgumentException($"{name} is not a bootstrap memory entry", nameof(memoryEntries))] = content;
        }
        return new BootstrapBundle(files);
    }

    public static byte[] Seal(BootstrapBundle bundle, TokenSealer sealer, string secret)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(bundle, SupervisorJsonContext.Default.BootstrapBundle);
        try
        {
            return sealer.Seal(plain, secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Opens sealed bootstrap data; a wrong token gives <see cref="SealedDataException"/>.</summary>
    public static BootstrapBundle Unseal(byte[] sealedData, TokenSealer sealer, string secret)
    {
        var plain = sealer.Unseal(sealedData, secret);
        try
        {
            var bundle = JsonSerializer.Deserialize(plain, SupervisorJsonContext.Default.BootstrapBundle)
                ?? throw new SealedDataException("the bootstrap data is empty");
            foreach (var name in bundle.Files.Keys)
            {
                if (!RequiredFiles.Contains(name) && !OptionalFiles.Contains(name) && !MemoryEntries.Contains(name) && !ServiceAccountKeys.IsKeyFile(name))
                {
                    throw new SealedDataException($"the bootstrap data names an unexpected file '{name}'; refusing to write it");
                }
            }
            var missing = RequiredFiles.Where(r => !bundle.Files.ContainsKey(r)).ToList();
            if (missing.Count > 0)
            {
                throw new SealedDataException($"the bootstrap data lacks {string.Join(", ", missing)}");
            }
            return bundle;
        }
        catch (JsonException e)
        {
            throw new SealedDataException("the bootstrap data is not valid JSON after unsealing", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>
    /// Writes the shared files (0600, folders 0700, atomically). A file that exists with other content is a conflict:
    /// this data dir belongs to another cluster, and nothing is overwritten.
    /// </summary>
    public static int WriteTo(BootstrapBundle bundle, string dataDir)
    {
        var conflicts = bundle.Files
            .Where(f => File.Exists(Path.Combine(dataDir, f.Key)) && File.ReadAllText(Path.Combine(dataDir, f.Key)) != f.Value)
            .Select(f => f.Key)
            .Where(k => k.EndsWith("-ca.crt", StringComparison.Ordinal) || k.EndsWith("-ca.key", StringComparison.Ordinal))
            .ToList();
        if (conflicts.Count > 0)
        {
            throw new PkiException($"{dataDir} already holds a different cluster's CA ({string.Join(", ", conflicts)}). " +
                "This data dir belongs to another cluster: use an empty --data-dir to join, or remove the old server state first.");
        }
        var written = 0;
        foreach (var (relative, content) in bundle.Files.Where(f => !MemoryEntries.Contains(f.Key)))
        {
            var path = Path.Combine(dataDir, relative);
            EnsureParents(dataDir, Path.GetDirectoryName(path)!);
            if (AtomicFile.WriteIfChanged(path, content, AtomicFile.Private))
            {
                written++;
            }
        }
        return written;
    }

    /// <summary>The etcd key of the sealed blob: derived from the token secret's hash, so only token holders can find it.</summary>
    public static string StorageKey(CryptoService crypto, string secret) =>
        SupervisorDatastore.BootstrapPrefix + Convert.ToHexStringLower(crypto.Hash(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret)));

    private static void EnsureParents(string root, string directory)
    {
        var relative = Path.GetRelativePath(root, directory);
        var current = root;
        AtomicFile.EnsureDirectory(current, AtomicFile.PrivateDirectory);
        foreach (var part in relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            AtomicFile.EnsureDirectory(current, AtomicFile.PrivateDirectory);
        }
    }
}
