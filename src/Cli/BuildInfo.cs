using System.Reflection;
using System.Runtime.InteropServices;

namespace Bulwark.Cli;

/// <summary>What this binary is: version, commit, runtime, platform.</summary>
public sealed record BuildInfo(string Version, string Commit, string Runtime, string Platform)
{
    public static BuildInfo Current { get; } = Read();

    private static BuildInfo Read()
    {
        var informational = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus >= 0 ? informational[..plus] : informational;
        var commit = plus >= 0 ? informational[(plus + 1)..] : "unknown";
        if (commit.Length > 12)
        {
            commit = commit[..12];
        }
        return new BuildInfo(version, commit, RuntimeInformation.FrameworkDescription,
            $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}");
    }
}
