using System.Security.Cryptography;
using Bulwark.FileSystem;

namespace Bulwark.Kms;

/// <summary>No TPM: each key in its own 0600 file (base64) under the root-only keyring folder, written atomically.</summary>
public sealed class FileKeyProtector(string folder) : IKeyProtector
{
    public string Kind => KeyProtection.File;

    public string Description => $"0600 files in {folder} (no TPM: a copy of the disk can decrypt Secrets)";

    public IReadOnlyList<string> FilesOf(string keyId) => [Path.Combine(folder, keyId + ".key")];

    public Task ProtectAsync(string keyId, ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        AtomicFile.EnsureDirectory(folder, AtomicFile.PrivateDirectory);
        AtomicFile.WriteAllText(FilesOf(keyId)[0], Convert.ToBase64String(key.Span) + "\n", AtomicFile.Private);
        return Task.CompletedTask;
    }

    public Task<byte[]> UnprotectAsync(string keyId, CancellationToken cancellationToken)
    {
        var path = FilesOf(keyId)[0];
        if (!File.Exists(path))
        {
            throw new KmsKeyringException($"{path}: the key file of {keyId} is missing; restore it from a backup of server/cred/kms/ or from another server");
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & ~AtomicFile.Private) != 0)
        {
            throw new KmsKeyringException($"{path}: mode {Convert.ToString((int)mode, 8)} lets others read the key; chmod 600 it (and check who read it)");
        }
        var text = File.ReadAllText(path).Trim();
        var key = new byte[KeyEncryptionKey.KeySize];
        if (!Convert.TryFromBase64String(text, key, out var written) || written != key.Length)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new KmsKeyringException($"{path}: not {KeyEncryptionKey.KeySize} bytes of base64; restore it from a backup or another server");
        }
        return Task.FromResult(key);
    }
}
