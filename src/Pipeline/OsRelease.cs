namespace Bulwark.Pipeline;

/// <summary>The identity of an image's distribution from <c>os-release</c> (ID, VERSION_ID, PRETTY_NAME).</summary>
public sealed record OsRelease(string Id, string VersionId, string PrettyName)
{
    public static readonly string[] Paths = ["etc/os-release", "usr/lib/os-release"];

    public static OsRelease? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq <= 0)
            {
                continue;
            }
            values[line[..eq]] = line[(eq + 1)..].Trim('"', '\'');
        }
        return values.TryGetValue("ID", out var id)
            ? new OsRelease(id, values.GetValueOrDefault("VERSION_ID", ""), values.GetValueOrDefault("PRETTY_NAME", id))
            : null;
    }
}
