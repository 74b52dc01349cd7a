using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Bulwark.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Bulwark.FileSystem;

/// <summary>
/// An exclusive flock on <c>&lt;data&gt;/.lock</c> held for the life of a <c>bulwark server</c> or <c>agent</c>, so a
/// second one on the same data dir is refused at once (with the holder's pid) and touches nothing. The kernel drops
/// the lock when the process dies, however it dies; the descriptor is close-on-exec, so children (etcd) never keep it.
/// </summary>
public sealed class DataDirLock : IDisposable
{
    private const int OpenReadOnly = 0x0, OpenReadWrite = 0x2, OpenCreate = 0x40, OpenCloseOnExec = 0x80000;
    private const int LockShared = 1, LockExclusive = 2, LockNonBlocking = 4;
    private const int WouldBlock = 11;

    private readonly SafeFileHandle _handle;

    private DataDirLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock or throws a refused <see cref="BulwarkException"/> naming the pid that holds it.</summary>
    public static DataDirLock Acquire(string path)
    {
        // Opened without .NET's FileStream: it would take its own shared flock, and a refused second process must
        // still read the holder's pid from the file.
        var fd = Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0b110_000_000);
        if (fd < 0)
        {
            throw new BulwarkException(ErrorKind.Unavailable, $"cannot open the lock file {path} (errno {Marshal.GetLastPInvokeError()}); check that the data dir is writable by root");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Flock(fd, LockExclusive | LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var holder = ReadPid(handle);
            handle.Dispose();
            throw errno == WouldBlock
                ? new BulwarkException(ErrorKind.Refused,
                    $"the data dir is in use by another bulwark (pid {holder}, holding {path}); stop it first, or give this one its own --data-dir. Nothing was changed.")
                : new BulwarkException(ErrorKind.Unavailable, $"cannot lock {path} (errno {errno})");
        }
        var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        if (FTruncate(fd, 0) != 0)
        {
            handle.Dispose();
            throw new BulwarkException(ErrorKind.Unavailable, $"cannot write {path} (errno {Marshal.GetLastPInvokeError()})");
        }
        RandomAccess.Write(handle, pid, 0);
        return new DataDirLock(handle, path);
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>The pid of the bulwark holding the lock now, or null when none holds it (a stale file's pid is not returned).</summary>
    public static int? Holder(string path)
    {
        var fd = Open(path, OpenReadOnly | OpenCloseOnExec, 0);
        if (fd < 0)
        {
            return null;
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Flock(fd, LockShared | LockNonBlocking) == 0)
        {
            return null; // nobody holds it; closing the handle releases our shared lock
        }
        return int.TryParse(ReadPid(handle), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static string ReadPid(SafeFileHandle handle)
    {
        var buffer = new byte[32];
        var read = RandomAccess.Read(handle, buffer, 0);
        var text = Encoding.ASCII.GetString(buffer, 0, read).Trim();
        return text.Length > 0 ? text : "unknown";
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Flock(int fd, int operation);

    [DllImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FTruncate(int fd, long length);
}
