namespace Bulwark.Kms;

/// <summary>
/// server/cred/kms/keyring.json: how the keys are protected, which one encrypts, and every key still retained for
/// decryption (newest first). Holds no key material.
/// </summary>
public sealed record KmsKeyringManifest(string Protection, string TpmPcrs, string Current, IReadOnlyList<KmsKeyEntry> Keys);

public sealed record KmsKeyEntry(string Id, DateTimeOffset Created);
