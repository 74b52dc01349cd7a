namespace Bulwark.Kms;

/// <summary>
/// Keeps key-encryption keys at rest: sealed to the host's TPM, or in 0600 files. Each key is stored under its id in
/// the keyring folder; <see cref="UnprotectAsync"/> returns the key bytes, which the caller owns and zeroes.
/// </summary>
public interface IKeyProtector
{
    /// <summary>"tpm" or "file": what <c>secrets-encrypt status</c> and the audit report.</summary>
    string Kind { get; }

    /// <summary>One line for people: what protects the keys (device, PCRs).</summary>
    string Description { get; }

    Task ProtectAsync(string keyId, ReadOnlyMemory<byte> key, CancellationToken cancellationToken);

    Task<byte[]> UnprotectAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>The files that hold <paramref name="keyId"/> (sealed blobs or the key file).</summary>
    IReadOnlyList<string> FilesOf(string keyId);
}
