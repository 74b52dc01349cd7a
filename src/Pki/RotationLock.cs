using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>
/// Serializes the writers of a node's rotated files: a rotation command (etcd first, then the local files and
/// re-issued leaves) and the server's follower (read etcd, then copy) must not interleave, or a follower holding an
/// older view would put old CA files back over new ones. An exclusive lock on <c>server/rotation.lock</c> (flock).
/// </summary>
public sealed class RotationLock : IDisposable
{
    private readonly FileStream _file;

    private RotationLock(FileStream file) => _file = file;

    public static async Task<RotationLock> AcquireAsync(string dataDir, CancellationToken cancellationToken)
    {
        var path = Path.Combine(new ServerPkiPaths(dataDir).ServerDirectory, "rotation.lock");
        var until = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return new RotationLock(new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate,
                    Access = FileAccess.ReadWrite,
                    Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                }));
            }
            catch (IOException) when (DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new BulwarkException(ErrorKind.Unavailable, $"{path} stayed locked for 2 minutes: another rotation is running on this node; wait for it and run again. Nothing was changed.", e);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
