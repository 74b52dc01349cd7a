namespace Bulwark.Kms;

/// <summary>
/// server/cred/kms/keyring.json: how the keys are protected, which one encrypts, and every key still retained for
/// decryption (newest first). Holds no key material.
/// </summary>
public sealed record KmsKeyringManifest(string Protection, string TpmPcrs, string Current, IReadOnlyList<KmsKeyEntry> Keys);

public sealed record KmsKeyEntry(string Id, DateTimeOffset Created);

/// <summary>
/// The keyring as a server hands it to joining servers inside the token-sealed bootstrap data: the key material in
/// base64, so the receiver can seal each key to its own TPM. Only ever in memory or sealed.
/// </summary>
public sealed record KmsKeyringExport(string Current, IReadOnlyList<KmsExportedKey> Keys);

public sealed record KmsExportedKey(string Id, DateTimeOffset Created, string Key)
{
    public override string ToString() => $"KmsExportedKey {{ Id = {Id} }}";
}
