namespace Bulwark.Kms;

/// <summary>The unsealed keys in memory: the current one encrypts, every retained one decrypts. Zeroed on dispose.</summary>
public sealed class KmsKeyring : IDisposable
{
    private readonly Dictionary<string, KeyEncryptionKey> _byId;

    public KmsKeyring(IReadOnlyList<KeyEncryptionKey> keys, string currentId)
    {
        _byId = keys.ToDictionary(k => k.Id, StringComparer.Ordinal);
        Current = _byId.TryGetValue(currentId, out var current) ? current : throw new KmsKeyringException($"the current key {currentId} is not among the retained keys");
    }

    public KeyEncryptionKey Current { get; }

    public IReadOnlyCollection<string> Ids => _byId.Keys;

    public KeyEncryptionKey? Find(string keyId) => _byId.GetValueOrDefault(keyId);

    public void Dispose()
    {
        foreach (var key in _byId.Values)
        {
            key.Dispose();
        }
    }
}
