using System.Text.RegularExpressions;
using Bulwark.ControlPlane;
using Bulwark.Resources;

namespace Bulwark.Cni;

/// <summary>The CNI specification's rules as data (policies/cni/spec.yaml): versions, names, capabilities, node paths and modes.</summary>
public sealed record CniSpecContract(
    IReadOnlyList<string> SupportedVersions,
    Version CheckSince,
    Regex NamePattern,
    IReadOnlyList<string> Capabilities,
    string ConfDir,
    IReadOnlyList<string> BinDirs,
    UnixFileMode FileMode,
    IReadOnlyList<string> FileModeControls,
    IReadOnlyList<string> FileModeExceptions)
{
    public const string DataFile = "policies/cni/spec.yaml";

    public static readonly Lazy<CniSpecContract> BuiltIn = new(() => Load(EmbeddedData.BuiltIn));

    public static CniSpecContract Load(EmbeddedData data)
    {
        var root = YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile);
        var r = new YamlNodes.Reader(DataFile);
        return new CniSpecContract(
            r.OptionalStringList(root, "supported-versions") ?? [],
            Version.Parse(r.NonEmptyString(root, "check-since")),
            new Regex(r.NonEmptyString(root, "name-pattern"), RegexOptions.CultureInvariant),
            r.OptionalStringList(root, "capabilities") ?? [],
            r.NonEmptyString(root, "conf-dir"),
            r.OptionalStringList(root, "bin-dirs") ?? [],
            (UnixFileMode)Convert.ToInt32(r.NonEmptyString(root, "file-mode"), 8),
            r.OptionalStringList(root, "file-mode-controls") ?? [],
            r.OptionalStringList(root, "file-mode-exceptions") ?? []);
    }

    public bool SupportsCheck(string cniVersion) => Version.TryParse(cniVersion, out var v) && v >= CheckSince;
}
