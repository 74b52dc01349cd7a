namespace Bulwark.Kms;

/// <summary>
/// The keyring the plugin serves, reloaded when keyring.json changes (a rotation by <c>secrets-encrypt rotate-kek</c>
/// while the server runs). kube-apiserver polls Status about once a minute, so Status is where a rotation is picked up;
/// a reload that fails keeps the keys already loaded and turns healthz into the reason.
/// </summary>
public sealed class KmsKeyHolder : IAsyncDisposable
{
    private readonly KmsKeyStore _store;
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile KmsKeyring _keyring;
    private DateTime _loadedStamp;

    private KmsKeyHolder(KmsKeyStore store, KmsKeyring keyring, DateTime stamp)
    {
        _store = store;
        _keyring = keyring;
        _loadedStamp = stamp;
    }

    public static async Task<KmsKeyHolder> LoadAsync(KmsKeyStore store, CancellationToken cancellationToken)
    {
        var stamp = File.GetLastWriteTimeUtc(store.ManifestPath);
        return new KmsKeyHolder(store, await store.LoadAsync(cancellationToken).ConfigureAwait(false), stamp);
    }

    public KmsKeyring Keyring => _keyring;

    /// <summary>Why the last reload failed, or null.</summary>
    public string? ReloadError { get; private set; }

    /// <summary>Reloads when keyring.json changed since the last load.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stamp = File.Exists(_store.ManifestPath) ? File.GetLastWriteTimeUtc(_store.ManifestPath) : DateTime.MinValue;
            if (stamp == _loadedStamp)
            {
                return;
            }
            try
            {
                var fresh = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
                var old = _keyring;
                _keyring = fresh;
                _loadedStamp = stamp;
                ReloadError = null;
                // Calls already in flight may still hold the old keys: let them finish before zeroing.
                _ = Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => old.Dispose(), TaskScheduler.Default);
            }
            catch (KmsKeyringException e)
            {
                ReloadError = e.Message;
            }
        }
        finally
        {
            _reload.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _keyring.Dispose();
        _reload.Dispose();
        return ValueTask.CompletedTask;
    }
}
