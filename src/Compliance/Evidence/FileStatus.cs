using System.Runtime.InteropServices;

namespace Bulwark.Compliance.Evidence;

/// <summary>Mode and owner of a file as stat(2) reports them (mode bits without the file type).</summary>
public sealed record FileStatus(int Mode, uint Uid, uint Gid, bool IsDirectory)
{
    /// <summary>The mode in octal as `stat -c %a` prints it (600, 644, 700).</summary>
    public string Permissions => Convert.ToString(Mode & 0xFFF, 8);
}

/// <summary>
/// Reads owner and mode natively with statx(2), whose struct layout is the same on every architecture
/// (.NET exposes the mode but not the owner).
/// </summary>
internal static class FileStatusReader
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;
    private const int UidOffset = 20;
    private const int GidOffset = 24;
    private const int ModeOffset = 28;
    private const int TypeMask = 0xF000;
    private const int DirectoryType = 0x4000;

    /// <summary>Null when the path does not exist; throws IOException for other failures (e.g. permission denied).</summary>
    public static FileStatus? Read(string path)
    {
        var buffer = new byte[StatxSize];
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            const int ENOENT = 2, ENOTDIR = 20;
            if (errno is ENOENT or ENOTDIR)
            {
                return null;
            }
            throw new IOException($"{path}: cannot stat it ({Marshal.GetPInvokeErrorMessage(errno)})");
        }
        var mode = BitConverter.ToUInt16(buffer, ModeOffset);
        return new FileStatus(mode & 0xFFF, BitConverter.ToUInt32(buffer, UidOffset), BitConverter.ToUInt32(buffer, GidOffset), (mode & TypeMask) == DirectoryType);
    }

    // A blittable byte[] is pinned, not copied, so no unsafe code is needed.
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}

/// <summary>User and group names by id, from the audited host's /etc/passwd and /etc/group (not this process's NSS).</summary>
public sealed class AccountNames
{
    private readonly Dictionary<uint, string> _users;
    private readonly Dictionary<uint, string> _groups;

    public AccountNames(NodePaths node)
    {
        _users = Read(node.Resolve("/etc/passwd"));
        _groups = Read(node.Resolve("/etc/group"));
    }

    public string User(uint uid) => _users.TryGetValue(uid, out var n) ? n : uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string Group(uint gid) => _groups.TryGetValue(gid, out var n) ? n : gid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Dictionary<uint, string> Read(string path)
    {
        var map = new Dictionary<uint, string>();
        if (!File.Exists(path))
        {
            return map;
        }
        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && uint.TryParse(f[2], out var id))
            {
                map.TryAdd(id, f[0]);
            }
        }
        return map;
    }
}
