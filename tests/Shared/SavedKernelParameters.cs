using Bulwark.Hardening;
using Bulwark.Resources;

namespace Bulwark.Tests;

/// <summary>
/// The real host's values of the CIS kernel parameters, taken at construction and written back on dispose,
/// so a test may harden or unharden this machine's /proc/sys and leave it as it found it.
/// </summary>
public sealed class SavedKernelParameters : IDisposable
{
    public static readonly SysctlProfile Profile = SysctlProfile.Load(EmbeddedData.BuiltIn);

    private readonly Dictionary<string, string> _saved = Profile.Parameters.ToDictionary(p => p.ProcPath, p => Read(p.ProcPath));

    public static string Read(string procPath) => File.ReadAllText("/" + procPath).Trim();

    /// <summary>Sets every parameter to the profile's value (what `sysctl -w` does).</summary>
    public static void Harden()
    {
        foreach (var parameter in Profile.Parameters)
        {
            File.WriteAllText("/" + parameter.ProcPath, parameter.Value + "\n");
        }
    }

    public void Dispose()
    {
        foreach (var (path, value) in _saved)
        {
            File.WriteAllText("/" + path, value + "\n");
        }
    }
}
