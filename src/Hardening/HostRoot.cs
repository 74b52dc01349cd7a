namespace Bulwark.Hardening;

/// <summary>
/// The root of the host being checked: "/" normally, or a mounted host (e.g. /host when Bulwark runs in a
/// container, as audit tools do). Every host path goes through <see cref="Resolve"/>.
/// </summary>
public sealed record HostRoot(string Path)
{
    public static readonly HostRoot Real = new("/");

    public bool IsReal => System.IO.Path.GetFullPath(Path) == "/";

    /// <summary>Maps an absolute host path ("/etc/passwd") or a root-relative one ("etc/passwd") into this root.</summary>
    public string Resolve(string hostPath) => System.IO.Path.Combine(Path, hostPath.TrimStart('/'));
}

/// <summary>Reads accounts from the host's /etc/passwd and /etc/group (not NSS: the host root may be mounted elsewhere).</summary>
public static class HostAccounts
{
    public static bool UserExists(HostRoot root, string name) => HasEntry(root.Resolve("/etc/passwd"), name);

    public static bool GroupExists(HostRoot root, string name) => HasEntry(root.Resolve("/etc/group"), name);

    /// <summary>uid/gid by name from the host's files; null when absent.</summary>
    public static int? IdOf(HostRoot root, string file, string name)
    {
        var path = root.Resolve(file);
        if (!File.Exists(path))
        {
            return null;
        }
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && int.TryParse(fields[2], out var id))
            {
                return id;
            }
        }
        return null;
    }

    private static bool HasEntry(string path, string name) =>
        File.Exists(path) && File.ReadLines(path).Any(line => line.Split(':')[0] == name);
}
