namespace Bulwark.Compliance.Evidence;

/// <summary>
/// Expands a host path that may end in a wildcard: "dir/*.yaml" (that folder) or "dir/**/*.key" (recursively).
/// A plain path is returned as is; results are host paths, sorted.
/// </summary>
internal static class PathPattern
{
    public static IReadOnlyList<string> Expand(NodePaths node, string hostPath)
    {
        var recursive = hostPath.Contains("/**/", StringComparison.Ordinal);
        if (!recursive && !Path.GetFileName(hostPath).Contains('*'))
        {
            return [hostPath];
        }
        var baseDir = recursive ? hostPath[..hostPath.IndexOf("/**/", StringComparison.Ordinal)] : Path.GetDirectoryName(hostPath)!;
        var pattern = Path.GetFileName(hostPath);
        var resolved = node.Resolve(baseDir);
        if (!Directory.Exists(resolved))
        {
            return [];
        }
        var options = new EnumerationOptions { RecurseSubdirectories = recursive, MatchType = MatchType.Simple, AttributesToSkip = 0, IgnoreInaccessible = true };
        var entries = pattern == "*" ? Directory.EnumerateFileSystemEntries(resolved, "*", options) : Directory.EnumerateFiles(resolved, pattern, options);
        return entries
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .Select(p => baseDir.TrimEnd('/') + "/" + Path.GetRelativePath(resolved, p))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
