using Bulwark.ControlPlane;

namespace Bulwark.Crypto;

/// <summary>The crypto data files (policies/crypto/*.yaml) are read with the one YAML reader; a malformed one is a FormatException, which crypto startup reports as such.</summary>
internal static class DataFiles
{
    public static YamlNodes.Reader Reader(string path) => new(path, message => new FormatException(message));
}
