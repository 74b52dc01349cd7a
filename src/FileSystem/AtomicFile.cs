using System.Runtime.InteropServices;
using System.Text;

namespace Bulwark.FileSystem;

/// <summary>
/// Writes files so that a crash leaves either the old content or the new, never half of one:
/// a temp file in the same folder, created with the final mode, fsync, rename, fsync of the folder.
/// </summary>
public static class AtomicFile
{
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode WorldReadable = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static void WriteAllText(string path, string content, UnixFileMode mode) =>
        WriteAllBytes(path, Encoding.UTF8.GetBytes(content), mode);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            // The umask may have narrowed the create mode; set it exactly.
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, path, overwrite: true);
            SyncDirectory(directory);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes only when the content differs, so unchanged files keep their timestamps. Returns true if written.</summary>
    public static bool WriteIfChanged(string path, string content, UnixFileMode mode)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            if (File.GetUnixFileMode(path) != mode)
            {
                File.SetUnixFileMode(path, mode);
            }
            return false;
        }
        WriteAllBytes(path, bytes, mode);
        return true;
    }

    /// <summary>Creates a folder (and parents) with the given mode, and tightens the mode of an existing one.</summary>
    public static void EnsureDirectory(string path, UnixFileMode mode)
    {
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, mode);
        }
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>
    /// Points the symlink <paramref name="linkPath"/> at <paramref name="target"/> in one step: a new link beside it,
    /// renamed over the old with rename(2) (File.Move refuses links to folders), so readers see the old or the new.
    /// </summary>
    public static void PointSymlink(string linkPath, string target)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(linkPath))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(linkPath)}.{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temp, target);
        if (Rename(temp, linkPath) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            File.Delete(temp);
            throw new IOException($"cannot point {linkPath} at {target}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        SyncDirectory(directory);
    }

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    private static void SyncDirectory(string directory)
    {
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Some file systems refuse fsync on a directory; the rename is still atomic.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
