namespace Bulwark.Kms;

/// <summary>What <c>secrets-encrypt status</c> and the audit say about the KMS keyring: no key material.</summary>
public sealed record KmsStatus(string Protection, string ProtectionDescription, string CurrentKeyId, IReadOnlyList<string> RetainedKeyIds)
{
    public static KmsStatus Of(KmsKeyStore store)
    {
        var manifest = store.ReadManifest();
        return new KmsStatus(manifest.Protection, store.Protector(manifest).Description, manifest.Current, manifest.Keys.Select(k => k.Id).ToList());
    }
}
